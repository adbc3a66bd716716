// Tensor handles (numbers into a per-environment slot table), ownership (tidy scopes, the nursery, kept
// tensors) and the garbage-collector safety net.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../../src/tensor/index.js';
import { native } from '../../src/tensor/native.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Collects garbage until `done()` or a few rounds have passed (finalizers run as tasks after a collection). */
async function collectUntil(done: () => boolean): Promise<void> {
  for (let round = 0; round < 20 && !done(); round++) {
    gc();
    await tick();
  }
}

test('a handle is a positive integer, and a stale one is reported as disposed even after its slot is reused', () => {
  const a = T.ones([3]);
  const h = a.handle;
  assert.equal(typeof h, 'number');
  assert.ok(Number.isInteger(h) && h > 0);
  a.dispose();
  assert.equal(native.isDisposed(h), true);
  assert.throws(() => native.add(h, h), /disposed/);
  // The freed slot is taken by the next tensor; the old handle still must not reach it.
  const b = T.zeros([3]);
  assert.notEqual(b.handle, h);
  assert.throws(() => native.neg(h), /disposed/);
  assert.equal(native.dispose(h), false, 'disposing a stale handle frees nothing');
  assert.deepEqual(b.toArray(), [0, 0, 0]);
  b.dispose();
});

test('malformed handles give errors, never a crash', () => {
  const a = T.ones([2]);
  for (const bad of [-1, 0, 0.5, NaN, Infinity, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 5, 2 ** 52, Number.MAX_VALUE]) {
    assert.throws(() => native.neg(bad), /disposed|not a tensor/, `handle ${bad}`);
    assert.throws(() => native.add(a.handle, bad), /disposed|not a tensor/, `handle ${bad}`);
    assert.equal(native.dispose(bad), false);
  }
  for (const bad of ['1', {}, null, undefined, [], true]) {
    assert.throws(() => native.neg(bad), /not a tensor|missing/, `handle ${String(bad)}`);
  }
  assert.throws(() => native.cat([a.handle, 'x']), /argument 0\[1\] is not a tensor/);
  assert.throws(() => native.index(a.handle, [-3]), /argument 1\[0\]/);
  assert.throws(() => native.dispose('x'), /not a tensor handle/);
  assert.deepEqual(a.toArray(), [1, 1]);
  a.dispose();
});

test('tensor and scalar operands take separate entry points', () => {
  T.tidy(() => {
    const x = T.tensor([1, 2, 3]);
    const y = T.tensor([10, 20, 30]);
    assert.deepEqual(x.add(y).toArray(), [11, 22, 33]);
    assert.deepEqual(x.add(2).toArray(), [3, 4, 5]);
    assert.deepEqual(x.add(y, 2).toArray(), [21, 42, 63]);
    assert.deepEqual(x.add(1, 3).toArray(), [4, 5, 6]);
    assert.deepEqual(x.sub(y, 0.5).toArray(), [-4, -8, -12]);
    assert.deepEqual(x.sub(1).toArray(), [0, 1, 2]);
    assert.deepEqual(x.mul(y).toArray(), [10, 40, 90]);
    assert.deepEqual(x.mul(true).toArray(), [1, 2, 3]);
    assert.deepEqual(x.pow(2).toArray(), [1, 4, 9]);
    assert.deepEqual(x.gt(1.5).toArray(), [0, 1, 1]);
    assert.deepEqual(x.eq(T.tensor([1, 0, 3])).toArray(), [1, 0, 1]);
    const z = x.clone();
    z.add_(y, -1).mul_(2).div_(T.tensor([2, 2, 2])).pow_(1).sub_(1);
    assert.deepEqual(z.toArray(), [-10, -19, -28]);
    const c = x.gt(1.5);
    assert.deepEqual(T.where(c, x, y).toArray(), [10, 2, 3]);
    assert.deepEqual(T.where(c, x, 0).toArray(), [0, 2, 3]);
    assert.deepEqual(T.where(c, 7, y).toArray(), [10, 7, 7]);
    assert.deepEqual(T.where(c, 7, 0).toArray(), [0, 7, 7]);
    const index = T.tensor(new BigInt64Array([2n, 0n]), [2]);
    assert.deepEqual(T.zeros([3]).scatter(0, index, 5).toArray(), [5, 0, 5]);
    assert.deepEqual(T.zeros([3]).scatter(0, index, T.tensor([1, 2])).toArray(), [2, 0, 1]);
    assert.deepEqual(T.zeros([3]).scatter_(0, index, 4).toArray(), [4, 0, 4]);
    // A handle is a number, but a number operand is a scalar: never read as a tensor.
    assert.deepEqual(x.add(y.handle).toArray(), [1, 2, 3].map((v) => v + y.handle));
  });
});

test('memory() counts live tensors and their bytes exactly', () => {
  const before = T.memory();
  const a = T.zeros([1000]);
  const view = a.narrow(0, 0, 10);
  assert.deepEqual(T.memory(), { liveTensors: before.liveTensors + 2, bytes: before.bytes + 8000 });
  a.dispose();
  assert.deepEqual(T.memory(), { liveTensors: before.liveTensors + 1, bytes: before.bytes + 4000 });
  view.dispose();
  assert.deepEqual(T.memory(), before);
});

test('tensors created and disposed outside any scope, in a long loop, leave nothing behind', async () => {
  const before = T.memory().liveTensors;
  const a = T.ones([4]);
  for (let i = 0; i < 5000; i++) a.add(a).dispose();
  a.dispose();
  assert.equal(T.memory().liveTensors, before);
  await tick();
  assert.equal(T.memory().liveTensors, before);
});

test('a long tidy scope whose tensors are disposed early stays correct', () => {
  const before = T.memory().liveTensors;
  const out = T.tidy(() => {
    const a = T.ones([2]);
    let kept = T.zeros([2]);
    for (let i = 0; i < 5000; i++) {
      const next = kept.add(a);
      if (i % 2 === 0) next.dispose();
      else {
        kept.dispose();
        kept = next;
      }
    }
    return kept;
  });
  assert.deepEqual(out.toArray(), [2500, 2500]);
  assert.equal(T.memory().liveTensors, before + 1);
  out.dispose();
  assert.equal(T.memory().liveTensors, before);
});

test('tidy: kept tensors and results of nested scopes survive, the rest is freed', () => {
  const before = T.memory().liveTensors;
  let kept!: T.Tensor;
  const result = T.tidy(() => {
    const inner = T.tidy(() => {
      kept = T.keep(T.ones([2]));
      T.ones([2]);
      return [T.full([2], 3)];
    });
    T.ones([2]);
    return inner[0].mul(2);
  });
  assert.equal(T.memory().liveTensors, before + 2);
  assert.deepEqual(result.toArray(), [6, 6]);
  assert.deepEqual(kept.toArray(), [1, 1]);
  result.dispose();
  kept.dispose();
  assert.equal(T.memory().liveTensors, before);
});

test('forgotten tensors are freed by the garbage collector, disposed ones are never freed twice', async () => {
  const before = T.memory().liveTensors;
  // Made outside any scope and never disposed: the safety net frees them once they are unreachable.
  (() => {
    for (let i = 0; i < 50; i++) T.ones([1000]);
  })();
  assert.equal(T.memory().liveTensors, before + 50);
  // Kept in a scope, then forgotten.
  T.tidy(() => void T.keep(T.ones([10])));
  await tick();
  await collectUntil(() => T.memory().liveTensors === before);
  assert.equal(T.memory().liveTensors, before, 'the finalizers freed every forgotten tensor');

  // Registered (it outlived its job), then disposed: its slot is reused by `next`, which the registry must
  // not free when the first tensor object is collected.
  let first: T.Tensor | null = T.ones([3]);
  await tick();
  first.dispose();
  first = null;
  const next = T.full([3], 2);
  await collectUntil(() => false);
  assert.deepEqual(next.toArray(), [2, 2, 2]);
  assert.equal(T.memory().liveTensors, before + 1);
  next.dispose();
});

test('handles belong to their thread: a worker has its own table, freed when the worker ends', async () => {
  const addonPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../build/Release/avid_native.node');
  const mainTensor = T.full([2], 5);
  const before = T.memory().liveTensors;
  const code = `
    const { parentPort } = require('node:worker_threads');
    const native = require(${JSON.stringify(addonPath)});
    const a = native.ones([2]);
    const b = native.addScalar(a, 1);
    const sum = native.item(native.sum(b));
    parentPort.postMessage({ sum, envLive: native.envLiveTensors(), processLive: native.liveTensors(), a, b });
  `;
  const worker = new Worker(code, { eval: true });
  const message = await new Promise<{ sum: number; envLive: number; processLive: number; a: number; b: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.equal(message.sum, 4);
  assert.equal(T.memory().liveTensors, before, "the worker's tensors went with it");
  assert.equal(message.envLive, 3, "the worker's table holds its own three tensors");
  assert.ok(message.processLive >= message.envLive + 1, 'process totals include every thread');
  // The worker's handles mean nothing here (or name a different tensor of this thread's table).
  assert.deepEqual(mainTensor.toArray(), [5, 5]);
  mainTensor.dispose();
});

test('slots past the small-integer range get the large handle form and work the same', () => {
  // The large form starts at slot 2^21; the test hook moves that limit down to slot 4 in a child process.
  const addonPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../build/Release/avid_native.node');
  const code = `
    const native = require(${JSON.stringify(addonPath)});
    const handles = [];
    for (let i = 1; i <= 12; i++) handles.push(native.fullLike(native.zeros([2]), i));
    const large = handles.filter((h) => h >= 2 ** 31);
    const sums = handles.map((h) => native.item(native.sum(native.addScalar(h, 1))));
    const stale = large[3];
    native.dispose(stale);
    const reused = native.ones([2]);
    let staleError = '';
    try { native.neg(stale); } catch (e) { staleError = e.message; }
    console.log(JSON.stringify({ large: large.length, integers: handles.every(Number.isInteger), sums, staleError,
      reusedIsLarge: reused >= 2 ** 31, reusedSum: native.item(native.sum(reused)), freedAgain: native.dispose(stale) }));
  `;
  const out = spawnSync(process.execPath, ['-e', code], { env: { ...process.env, AVID_TEST_SMALL_HANDLE_SLOTS: '4' }, encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const r = JSON.parse(out.stdout);
  assert.ok(r.large >= 8, `${r.large} large handles`);
  assert.equal(r.integers, true);
  assert.deepEqual(r.sums, [4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26]);
  assert.match(r.staleError, /disposed/);
  assert.equal(r.reusedIsLarge, true);
  assert.equal(r.reusedSum, 2);
  assert.equal(r.freedAgain, false);
});
