import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meanWithError, lateMeanLoss } from '../../src/demo/long-form-ablation.js';
import { run } from '../../src/cli/commands/ablate-long-form.js';

test('the ablation summarises seeds as mean ± standard error, and the late loss as the mean of the last half', () => {
  // Sample standard deviation of [1, 3, 5] is 2; over √3.
  const m = meanWithError([1, 3, 5]);
  assert.equal(m.mean, 3);
  assert.ok(Math.abs(m.se! - 2 / Math.sqrt(3)) < 1e-12);
  assert.equal(m.n, 3);
  assert.equal(meanWithError([4]).se, null, 'one seed: no standard error');
  assert.equal(lateMeanLoss([[1, 9], [2, 8], [3, 2], [4, 4]]), 3);
  assert.equal(lateMeanLoss([[1, 9], [2, 8], [3, 2]]), 5, 'odd counts: the later half is the larger');
});

test('ablate-long-form rejects an unknown objective, bad seeds, k and w, and unknown flags, naming the flag', async () => {
  const config = new URL('../../configs/cpu/long-form.yaml', import.meta.url).pathname;
  await assert.rejects(run(['--config', config, '--objective', 'memory']), /--objective: unknown 'memory'; allowed: in-batch, avid, cma, config/);
  await assert.rejects(run(['--config', config, '--objective', 'in-bach']), /--objective: unknown 'in-bach' \(did you mean 'in-batch'\?\)/);
  await assert.rejects(run(['--config', config, '--seeds', '0,x']), /--seeds: expected '0-7' or '0,3,5', got '0,x'/);
  await assert.rejects(run(['--config', config, '--k', '1,0']), /--k must be a positive integer; got '0'/);
  await assert.rejects(run(['--config', config, '--w', 'video,2.5']), /--w must be a positive integer; got '2.5'/);
  await assert.rejects(run(['--config', config, '--seed', '3']), /unknown flag --seed \(did you mean --seeds\?\)/);
});
