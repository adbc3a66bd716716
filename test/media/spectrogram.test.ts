import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFileSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as T from '../../src/tensor/index.js';
import {
  logSpectrogram,
  spectrogramGeometry,
  spectrogramFrames,
  normalizeSpectrogram,
  saveStats,
  loadStats,
  SpectrogramStatsAccumulator,
  ANALYSIS_SPECTROGRAM,
  COMPARISON_SPECTROGRAM,
} from '../../src/media/spectrogram.js';
import { computeSpectrogramStats } from '../../src/media/spectrogram-stats.js';
import { Rng } from '../../src/data/rng.js';
import { avClip, skipWithoutAvClips, makeTempDir } from './fixtures.js';

const python = '/usr/bin/python3';
let skipPython: string | false = false;
try {
  execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
} catch {
  skipPython = `${python} with torch is not available`;
}

/** Two deterministic test waveforms: a chirp with noise, and a pair of tones with clicks. */
function testWaveforms(length: number): Float32Array {
  const rng = new Rng(11);
  const out = new Float32Array(2 * length);
  for (let i = 0; i < length; i++) {
    const t = i / 24000;
    out[i] = 0.5 * Math.sin(2 * Math.PI * (200 * t + 1500 * t * t)) + 0.05 * rng.normal();
    out[length + i] = 0.3 * Math.sin(2 * Math.PI * 440 * t) + 0.2 * Math.sin(2 * Math.PI * 3000 * t) + (i % 4800 === 0 ? 0.9 : 0) + 0.01 * rng.normal();
  }
  return out;
}

test('geometry: 2 s at 24 kHz gives 100×129 (analysis) and 200×257 (comparison)', () => {
  for (const [config, frames, bins] of [[ANALYSIS_SPECTROGRAM, 100, 129], [COMPARISON_SPECTROGRAM, 200, 257]] as const) {
    const before = T.memory().liveTensors;
    const wave = T.tensor(testWaveforms(48000), [2, 48000]);
    const spec = logSpectrogram(wave, config);
    assert.deepEqual(spec.shape, [2, 1, frames, bins]);
    assert.equal(spectrogramFrames(config, 48000), frames);
    assert.ok(T.tidy(() => spec.isfinite().all().item()));
    wave.dispose();
    spec.dispose();
    assert.equal(T.memory().liveTensors, before, 'no tensor leaked');
  }
  assert.deepEqual(spectrogramGeometry(ANALYSIS_SPECTROGRAM), { winLength: 480, hopLength: 480, pool: 2 });
  assert.throws(() => spectrogramGeometry({ ...ANALYSIS_SPECTROGRAM, freqBins: 100 }), /freqBins must be 1 \+ \(nFft \/ 2\) \/ k/);
  assert.throws(() => spectrogramGeometry({ ...ANALYSIS_SPECTROGRAM, nFft: 256 }), /nFft must be an even integer ≥ the window \(480 samples\)/);
});

test('parity with python3 torch.stft (same waveform, same pooling and log)', { skip: skipPython }, () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const length = 48000;
    const waves = testWaveforms(length);
    const input = path.join(dir, 'wave.f32');
    writeFileSync(input, waves);
    for (const config of [ANALYSIS_SPECTROGRAM, COMPARISON_SPECTROGRAM]) {
      const { winLength, hopLength } = spectrogramGeometry(config);
      const output = path.join(dir, `ref-${config.freqBins}.f32`);
      // An independent statement of the reference recipe: |stft|², DC + mean of bin pairs, ⌊L/hop⌋ frames, log.
      const script = `
import numpy as np, torch
x = torch.from_numpy(np.fromfile(${JSON.stringify(input)}, dtype=np.float32).reshape(2, ${length}))
s = torch.stft(x, n_fft=${config.nFft}, hop_length=${hopLength}, win_length=${winLength},
               window=torch.hann_window(${winLength}), center=True, pad_mode='reflect', return_complex=True)
p = s.abs() ** 2
half = ${config.nFft} // 2
p = torch.cat([p[:, :1], p[:, 1:].reshape(2, ${config.freqBins - 1}, half // ${config.freqBins - 1}, -1).mean(2)], 1)
p = p[:, :, :${length} // ${hopLength}]
out = torch.log(p + 1e-10).transpose(1, 2).unsqueeze(1).contiguous()
out.numpy().astype(np.float32).tofile(${JSON.stringify(output)})
print(list(out.shape))
`;
      const shape = execFileSync(python, ['-c', script], { encoding: 'utf8' }).trim();
      const wave = T.tensor(waves, [2, length]);
      const ours = logSpectrogram(wave, config);
      assert.equal(shape, JSON.stringify(ours.shape).replace(/,/g, ', '));
      const a = ours.toFloat32Array();
      const b = new Float32Array(readFileSync(output).buffer.slice(0));
      assert.equal(a.length, b.length);
      let maxDiff = 0;
      for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      if (process.env.AVID_VERBOSE) console.log(`parity ${config.freqBins} bins: max diff ${maxDiff}`);
      assert.ok(maxDiff < 1e-3, `max |ours − torch| = ${maxDiff} for ${config.freqBins} bins`);
      wave.dispose();
      ours.dispose();
    }
  } finally {
    cleanup();
  }
});

test('per-bin statistics: accumulate, normalise to zero mean and unit std, save and load', () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const wave = T.tensor(testWaveforms(48000), [2, 48000]);
    const spec = logSpectrogram(wave, ANALYSIS_SPECTROGRAM);
    const acc = new SpectrogramStatsAccumulator(ANALYSIS_SPECTROGRAM);
    acc.add(spec);
    const stats = acc.result();
    assert.equal(stats.frames, 200);
    assert.equal(stats.clips, 2);
    const file = path.join(dir, 'stats.json');
    saveStats(file, stats);
    const loaded = loadStats(file, ANALYSIS_SPECTROGRAM);
    assert.deepEqual(loaded, stats);
    assert.throws(() => loadStats(file, COMPARISON_SPECTROGRAM), /computed for/);
    const z = normalizeSpectrogram(spec, loaded);
    T.tidy(() => {
      const perBinMean = z.mean([0, 1, 2]);
      const perBinStd = z.std([0, 1, 2], false);
      assert.ok(perBinMean.abs().max().item() < 1e-3);
      assert.ok(perBinStd.sub(1).abs().max().item() < 1e-2);
    });
    for (const t of [wave, spec, z]) t.dispose();
    writeFileSync(file, JSON.stringify({ kind: 'avid.spectrogram-stats', config: ANALYSIS_SPECTROGRAM, mean: [1], std: [] }));
    assert.throws(() => loadStats(file), /'mean' must be 129 finite numbers/);
  } finally {
    cleanup();
  }
});

test('computeSpectrogramStats over real files, a file without audio skipped with its reason', { skip: skipWithoutAvClips }, async () => {
  const before = T.memory().liveTensors;
  const { stats, skipped } = await computeSpectrogramStats(
    [{ path: avClip('boat.mp4'), durationSec: 6 }, { path: avClip('birthday.mp4'), durationSec: 16 }, { path: avClip('mmaction_test.avi'), durationSec: 6.5 }],
    ANALYSIS_SPECTROGRAM,
    { clipsPerFile: 2 },
  );
  assert.equal(stats.clips, 4);
  assert.equal(stats.frames, 400);
  assert.deepEqual(skipped.map((s) => [path.basename(s.path), s.reason]), [['birthday.mp4', 'no audio stream']]);
  assert.ok(stats.std.every((s) => s > 0));
  assert.equal(T.memory().liveTensors, before);
});
