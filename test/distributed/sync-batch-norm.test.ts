// Synchronised batch norm over 2 ranks equals batch norm of the whole batch in one process: outputs, running
// statistics, parameter gradients (averaged across ranks) and input gradients (which carry every rank's
// share of the loss: worldSize times the single-process gradient of the mean loss, as in PyTorch's
// SyncBatchNorm under DDP).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import * as dist from '../../src/distributed/index.js';
import { freePort, resultOf, startRanks } from './helpers.js';
import { N, makeCase, rows, toList } from './workers/batch-norm-case.js';

const skip = dist.availableBackends().includes('gloo') ? false : 'the addon was built without Gloo (install libgloo-dev and rebuild)';

function assertClose(actual: number[], expected: number[], what: string, tolerance = 1e-9): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= tolerance * Math.max(1, Math.abs(expected[i])), `${what}[${i}]: ${v} vs ${expected[i]}`));
}

test('without training, syncBatchNorm is batch norm with the running statistics (no process group needed)', () => {
  T.tidy(() => {
    const x = T.randn([4, 3, 2], { generator: new T.Generator(1) });
    const options = { runningMean: T.full([3], 0.5), runningVar: T.full([3], 4), training: false };
    assert.deepEqual(dist.syncBatchNorm(x, options).toArray(), T.functional.batchNorm(x, options).toArray());
  });
});

test('syncBatchNorm on 2 ranks matches batch norm of the full batch in one process', { skip }, async () => {
  const job = startRanks('sync-batch-norm.worker.ts', 2, await freePort());
  const c = makeCase();
  const reference = T.tidy(() => {
    const x = c.x.clone().requiresGrad_();
    const runningMean = T.zeros([3], { dtype: 'float64' });
    const runningVar = T.ones([3], { dtype: 'float64' });
    const y = T.functional.batchNorm(x, { weight: c.weight, bias: c.bias, runningMean, runningVar, training: true, momentum: 0.1, eps: 1e-5 });
    y.mul(c.r).sum().div(N).backward();
    const half = N / 2;
    return {
      y: [toList(rows(y, 0, half)), toList(rows(y, half, N))],
      xGrad: [toList(rows(x.grad!, 0, half).mul(2)), toList(rows(x.grad!, half, N).mul(2))],
      weightGrad: toList(c.weight.grad!),
      biasGrad: toList(c.bias.grad!),
      runningMean: toList(runningMean),
      runningVar: toList(runningVar),
    };
  });
  for (const t of Object.values(c)) t.dispose();

  for (const r of await job.done) {
    assert.equal(r.code, 0, `rank ${r.rank} failed:\n${r.stderr}`);
    const got = resultOf(r) as Record<string, number[]> & { leaked: number };
    assertClose(got.y, reference.y[r.rank], `rank ${r.rank} output`);
    assertClose(got.xGrad, reference.xGrad[r.rank], `rank ${r.rank} input gradient`);
    assertClose(got.weightGrad, reference.weightGrad, `rank ${r.rank} weight gradient`);
    assertClose(got.biasGrad, reference.biasGrad, `rank ${r.rank} bias gradient`);
    assertClose(got.runningMean, reference.runningMean, `rank ${r.rank} running mean`);
    assertClose(got.runningVar, reference.runningVar, `rank ${r.rank} running variance`);
    assert.equal(got.lowDtype, 'float32', 'bfloat16 input: float32 statistics and output');
    assertClose(got.low, reference.y[r.rank], `rank ${r.rank} output from bfloat16 input`, 2e-2);
    assert.equal(got.leaked, 0);
  }
});
