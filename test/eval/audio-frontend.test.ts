import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { createAudioFrontend } from '../../src/eval/audio-frontend.js';
import { logSpectrogram, normalizeSpectrogram, ANALYSIS_SPECTROGRAM } from '../../src/media/spectrogram.js';

test('evaluation input: the media spectrogram, standardised per clip or with checkpoint statistics', () => {
  T.manualSeed(3);
  const x = T.keep(T.randn([2, 48000]).mul(T.tensor(Float32Array.from([1, 30]), [2, 1])));
  const before = T.memory().liveTensors;
  const frontend = createAudioFrontend();
  assert.deepEqual(frontend.options.spectrogram, ANALYSIS_SPECTROGRAM, '2 s at 24 kHz, 20 ms hop, 129 bins');
  const y = frontend.toInput(x);
  assert.equal(T.memory().liveTensors, before + 1);
  assert.deepEqual(y.shape, [2, 1, 100, 129]);
  // Each clip standardised on its own: the 30× louder clip gives the same statistics.
  for (let b = 0; b < 2; b++) {
    const clip = y.select(0, b);
    assert.ok(Math.abs(clip.mean().item()) < 1e-4);
    assert.ok(Math.abs(clip.std(null, false).item() - 1) < 1e-3);
    clip.dispose();
  }
  // With statistics, exactly the media layer's normalisation.
  const stats = { config: ANALYSIS_SPECTROGRAM, mean: Array.from({ length: 129 }, (_, i) => -i / 50), std: Array.from({ length: 129 }, (_, i) => 1 + i / 100), frames: 1, clips: 1 };
  const withStats = createAudioFrontend({ stats, hopSec: 0.01 });
  assert.equal(withStats.options.spectrogram.hopSec, 0.02, 'the statistics bring their own spectrogram config');
  const z = withStats.toInput(x);
  const expected = T.tidy(() => normalizeSpectrogram(logSpectrogram(x, ANALYSIS_SPECTROGRAM), stats));
  assert.ok(T.tidy(() => z.sub(expected).abs().max().item()) < 1e-5);
  for (const t of [x, y, z, expected]) t.dispose();
});
