import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as T from '../../src/tensor/index.js';
import { createAudioFrontend } from '../../src/eval/audio-frontend.js';

// The same pipeline written directly in PyTorch (python3-torch, same libtorch version).
const PYTHON = `
import sys, json, torch
x = torch.tensor(json.load(sys.stdin), dtype=torch.float32)
spec = torch.stft(x, n_fft=512, hop_length=480, win_length=480, window=torch.hann_window(480), center=True, return_complex=True)
power = spec.real ** 2 + spec.imag ** 2
power = torch.cat([power, torch.zeros(power.shape[0], 1, power.shape[2])], 1)
sums = power.reshape(power.shape[0], 129, 2, power.shape[2]).sum(2)
counts = torch.full((129,), 2.0); counts[-1] = 1.0
log = (sums / counts[None, :, None] + 1e-8).log()[:, :, :100]
log = (log - log.mean((1, 2), keepdim=True)) / (log.std((1, 2), unbiased=False, keepdim=True) + 1e-5)
print(json.dumps(log.transpose(1, 2).flatten().tolist()))
`;

test('log spectrogram matches PyTorch: (B, 1, 100, 129) for 2 s at 24 kHz', (t) => {
  T.manualSeed(3);
  const x = T.randn([2, 48000]);
  const data = Array.from(x.toFloat32Array());
  const py = spawnSync('/usr/bin/python3', ['-c', PYTHON], { input: JSON.stringify([data.slice(0, 48000), data.slice(48000)]), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (py.status !== 0 && /No module named 'torch'/.test(py.stderr)) return t.skip('python3-torch is not installed');
  assert.equal(py.status, 0, py.stderr);
  const expected = JSON.parse(py.stdout) as number[];
  const before = T.memory().liveTensors;
  const y = createAudioFrontend().toInput(x);
  assert.equal(T.memory().liveTensors, before + 1);
  assert.deepEqual(y.shape, [2, 1, 100, 129]);
  const got = y.toFloat32Array();
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]));
  assert.ok(worst < 1e-3, `largest difference ${worst}`);
  y.dispose();
  x.dispose();
  assert.throws(() => createAudioFrontend({ freqBins: 100 }), /cannot be averaged in groups down to 100 bins/);
});
