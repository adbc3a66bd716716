import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as avid from 'avid';

test('the package entry exposes the documented API and the README example runs', () => {
  for (const name of ['nn', 'optim', 'io', 'models', 'media', 'data', 'ssl', 'train', 'eval', 'report', 'distributed', 'config', 'synth', 'analyses']) {
    assert.equal(typeof (avid as Record<string, unknown>)[name], 'object', name);
  }
  assert.equal(typeof avid.analyses.runEpochAnalysis, 'function', 'avid.analyses.runEpochAnalysis');
  assert.equal(typeof avid.analyses.runDataSizeAnalysis, 'function', 'avid.analyses.runDataSizeAnalysis');
  assert.equal(typeof avid.load, 'function', 'avid.load');
  const model = avid.models.createModel('av-r2plus1d-10', { width: 0.125 });
  model.eval();
  const { video, audio } = avid.noGrad(() => model.forward(avid.randn([1, 3, 4, 32, 32]), avid.randn([1, 1, 40, 33])));
  assert.deepEqual(video.shape, [1, 128]);
  assert.ok(Math.abs(avid.tidy(() => audio.norm().item()) - 1) < 1e-5);
  model.dispose();
});
