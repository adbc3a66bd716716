import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as T from '../../src/tensor/index.js';
import { MemoryBank } from '../../src/ssl/memory-bank.js';
import { NCENormaliser, nceLoss } from '../../src/ssl/nce.js';
import { sampleNegatives } from '../../src/ssl/negatives.js';
import { AvidObjective, AVID_NEGATIVES_STREAM } from '../../src/ssl/avid.js';
import { CmaObjective } from '../../src/ssl/cma.js';

const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch']).status === 0;

test('NCE equals the formula computed by hand', () => {
  // One anchor, two negatives, τ = 0.5; Z from this batch = mean(exp(s⁻/τ)).
  const x = T.tensor(new Float32Array([1, 0]), [1, 2]);
  const pos = T.tensor(new Float32Array([0.6, 0.8]), [1, 2]);
  const neg = T.tensor(new Float32Array([0, 1, -1, 0]), [1, 2, 2]);
  const tau = 0.5;
  const ePos = Math.exp(0.6 / tau);
  const eNeg = [Math.exp(0 / tau), Math.exp(-1 / tau)];
  const Z = (eNeg[0] + eNeg[1]) / 2;
  const K = 2;
  const expected = -Math.log(ePos / (ePos + K * Z)) - eNeg.reduce((s, e) => s + Math.log((K * Z) / (e + K * Z)), 0);
  const z = new NCENormaliser();
  const loss = nceLoss(x, pos, neg, tau, z).item();
  assert.ok(Math.abs(loss - expected) < 1e-5, `${loss} vs ${expected}`);
  assert.ok(Math.abs(Math.exp(z.logZ!) - Z) < 1e-5, 'Z is set from the first batch');
  // Z stays fixed thereafter.
  const other = T.tensor(new Float32Array([1, 0, 0, 1]), [1, 2, 2]);
  nceLoss(x, pos, other, tau, z).dispose();
  assert.ok(Math.abs(Math.exp(z.logZ!) - Z) < 1e-5);
});

test("with 'every-batch', Z is each batch's own mean of exp(s⁻/τ), so the loss is the hand formula with that batch's Z", () => {
  T.tidy(() => {
    const x = T.tensor(new Float32Array([1, 0]), [1, 2]);
    const pos = T.tensor(new Float32Array([0.6, 0.8]), [1, 2]);
    const tau = 0.5;
    const z = new NCENormaliser('every-batch');
    for (const negatives of [[0, 1, -1, 0], [0.8, 0.6, 1, 0]]) {
      const neg = T.tensor(Float32Array.from(negatives), [1, 2, 2]);
      const ePos = Math.exp(0.6 / tau);
      const eNeg = [Math.exp(negatives[0] / tau), Math.exp(negatives[2] / tau)];
      const Z = (eNeg[0] + eNeg[1]) / 2;
      const expected = -Math.log(ePos / (ePos + 2 * Z)) - eNeg.reduce((s, e) => s + Math.log((2 * Z) / (e + 2 * Z)), 0);
      const loss = nceLoss(x, pos, neg, tau, z).item();
      assert.ok(Math.abs(loss - expected) < 1e-5, `${loss} vs ${expected}`);
      assert.ok(Math.abs(Math.exp(z.logZ!) - Z) < 1e-5, 'Z is this batch\'s');
    }
  });
});

test("AVID and CMA pass normaliserEstimate to every term's normaliser, wMPD's included", () => {
  const avid = new AvidObjective({ numInstances: 30, dim: 8, variant: 'joint', negatives: 10, sharedNormaliser: false, normaliserEstimate: 'every-batch' });
  assert.deepEqual(Object.values(avid.normalisers).map((n) => n.estimate), ['every-batch', 'every-batch', 'every-batch', 'every-batch']);
  avid.dispose();
  const cma = new CmaObjective({ numInstances: 30, dim: 8, negatives: 10, sharedNormaliser: false, normaliserEstimate: 'every-batch', positives: 2, wmpdNegatives: 4, lambda: 1, agreement: 'agreement', remineEveryEpochs: 1 });
  assert.equal(cma.wmpdNormalisers.video.estimate, 'every-batch');
  assert.equal(cma.wmpdNormalisers.audio.estimate, 'every-batch');
  cma.dispose();
  const reference = new AvidObjective({ numInstances: 30, dim: 8, variant: 'cross', negatives: 10 });
  assert.equal(reference.normalisers.v2a.estimate, 'first-batch', 'the reference\'s estimate by default');
  reference.dispose();
});

test('NCE matches the exponential form in python3-torch', { skip: !hasTorch && 'python3-torch not installed' }, () => {
  T.manualSeed(3);
  const x = T.functional.normalize(T.randn([4, 8]));
  const pos = T.functional.normalize(T.randn([4, 8]));
  const neg = T.functional.normalize(T.randn([4, 16, 8]), 2, 2);
  const ours = nceLoss(x, pos, neg, 0.07, new NCENormaliser()).item();
  const script = `
import torch, json, sys
d = json.loads(sys.stdin.read())
x = torch.tensor(d['x']).view(4, 8); p = torch.tensor(d['p']).view(4, 8); n = torch.tensor(d['n']).view(4, 16, 8)
tau, K = 0.07, 16
ep = torch.exp((x * p).sum(1) / tau)
en = torch.exp(torch.bmm(n, x.unsqueeze(2)).squeeze(2) / tau)
Z = en.mean()
lp = torch.log(ep / (ep + K * Z))
ln = torch.log(K * Z / (en + K * Z)).sum(1)
print(float(-(lp + ln).mean()))`;
  const r = spawnSync('/usr/bin/python3', ['-c', script], {
    input: JSON.stringify({ x: x.toArray(), p: pos.toArray(), n: neg.toArray() }),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const reference = Number(r.stdout);
  assert.ok(Math.abs(ours - reference) / Math.abs(reference) < 1e-4, `${ours} vs ${reference}`);
});

test('negatives never include the anchor and are uniform over the others', () => {
  const N = 10;
  const anchors = T.tensor(BigInt64Array.from([0n, 3n, 9n, 5n].flatMap((a) => Array(50).fill(a))), [200]);
  const neg = sampleNegatives(anchors, N, 500, new T.Generator(1));
  const values = neg.toArray();
  const anchorList = anchors.toArray();
  const counts = new Array(N).fill(0);
  values.forEach((v, i) => {
    const anchor = anchorList[Math.floor(i / 500)];
    assert.notEqual(v, anchor);
    assert.ok(v >= 0 && v < N);
    if (anchor === 3) counts[v]++;
  });
  // 50 anchors × 500 draws over 9 values: each ≈ 2778; allow 5 standard deviations.
  const expected = (50 * 500) / 9;
  counts.forEach((c, v) => {
    if (v === 3) assert.equal(c, 0);
    else assert.ok(Math.abs(c - expected) < 5 * Math.sqrt(expected), `value ${v} drawn ${c} times`);
  });
});

test('memory update is an EMA with momentum 0.5 followed by re-normalisation', () => {
  const bank = new MemoryBank(4, 2, 0.5, 0);
  const before = bank.bank.toArray();
  const index = T.tensor(BigInt64Array.from([2n]), [1]);
  const x = T.tensor(new Float32Array([0, 1]), [1, 2]);
  bank.update(index, x);
  const after = bank.bank.toArray();
  const mx = 0.5 * before[4] + 0.5 * 0;
  const my = 0.5 * before[5] + 0.5 * 1;
  const norm = Math.hypot(mx, my);
  assert.ok(Math.abs(after[4] - mx / norm) < 1e-6 && Math.abs(after[5] - my / norm) < 1e-6);
  assert.deepEqual(after.slice(0, 4), before.slice(0, 4), 'other rows unchanged');
  const norms = bank.bank.norm(2, 1).toArray();
  norms.forEach((n) => assert.ok(Math.abs(n - 1) < 1e-5));
  bank.dispose();
});

test('Cross-AVID uses only cross-modal terms, Self only within-modal, Joint both, and nothing leaks', () => {
  const ctx = { seed: 0, epoch: 0, step: 0, gather: (t: T.Tensor) => t };
  const batch = () => ({
    video: T.functional.normalize(T.randn([4, 8])).requiresGrad_(),
    audio: T.functional.normalize(T.randn([4, 8])).requiresGrad_(),
    index: T.arange(4),
  });
  for (const [variant, names] of [
    ['cross', ['v2a', 'a2v']],
    ['self', ['v2v', 'a2a']],
    ['joint', ['v2a', 'a2v', 'v2v', 'a2a']],
  ] as const) {
    const objective = new AvidObjective({ numInstances: 20, dim: 8, variant, negatives: 5 });
    const b = batch();
    const before = T.memory().liveTensors;
    const out = objective.loss(b, ctx);
    assert.deepEqual(Object.keys(out.terms), names);
    out.loss.backward();
    out.loss.dispose();
    objective.afterStep(b, ctx);
    assert.equal(T.memory().liveTensors, before);
    assert.ok(b.video.grad !== null);
    objective.dispose();
  }
});

/** Exposes the step's negative draw, as `loss` makes it. */
class ProbeAvid extends AvidObjective {
  draw(index: T.Tensor, ctx: { seed: number; epoch: number; step: number; gather: (t: T.Tensor) => T.Tensor }): T.Tensor {
    return this.negativesFor(index, ctx, AVID_NEGATIVES_STREAM);
  }
}

test('one Z for every term by default, set from the first term’s negatives on the first batch (as the reference); per term on request', () => {
  T.tidy(() => {
    const ctx = { seed: 2, epoch: 0, step: 0, gather: (t: T.Tensor) => t.alias() };
    const g = new T.Generator(9);
    const video = T.functional.normalize(T.randn([6, 8], { generator: g }));
    const audio = T.functional.normalize(T.randn([6, 8], { generator: g }));
    const index = T.arange(6);
    const shared = new ProbeAvid({ numInstances: 30, dim: 8, variant: 'joint', negatives: 10, tau: 0.1 });
    const z = shared.normalisers;
    assert.ok(z.v2a === z.a2v && z.v2a === z.v2v && z.v2a === z.a2a, 'one normaliser object for all terms');
    const out = shared.loss({ video, audio, index }, ctx);
    // Z by hand: the mean of exp(v·ā/τ) over the v2a term's negatives of this first batch.
    const negatives = shared.draw(index, ctx);
    const expectedLogZ = shared.audioBank.rows(negatives).bmm(video.unsqueeze(2)).squeeze(2).div(0.1).exp().mean().log().item();
    assert.ok(Math.abs(z.v2a.logZ! - expectedLogZ) < 1e-5, `${z.v2a.logZ} vs ${expectedLogZ}`);
    // Every term is the NCE with that one Z.
    const withZ = () => Object.assign(new NCENormaliser(), { logZ: expectedLogZ });
    const v2v = nceLoss(video, shared.videoBank.rows(index), shared.videoBank.rows(negatives), 0.1, withZ()).item();
    assert.ok(Math.abs(out.terms.v2v - v2v) < 1e-5, `v2v ${out.terms.v2v} vs ${v2v}`);
    shared.dispose();

    const perTerm = new AvidObjective({ numInstances: 30, dim: 8, variant: 'joint', negatives: 10, tau: 0.1, sharedNormaliser: false });
    perTerm.loss({ video, audio, index }, ctx);
    const values = Object.values(perTerm.normalisers).map((n) => n.logZ!);
    assert.equal(new Set(values).size, 4, `one Z per term: ${values}`);
    perTerm.dispose();
  });
});

test('a shared Z loaded from a checkpoint with one Z per term is the mean of its Zs; a shared one loads into per-term', () => {
  const shared = new AvidObjective({ numInstances: 10, dim: 4, variant: 'cross', negatives: 3 });
  const banks = shared.state().tensors;
  shared.loadState({ tensors: banks, scalars: { logZ: { v2a: Math.log(2), a2v: Math.log(4), v2v: null, a2a: null } } });
  assert.ok(Math.abs(shared.normalisers.a2v.logZ! - Math.log(3)) < 1e-12);
  const perTerm = new AvidObjective({ numInstances: 10, dim: 4, variant: 'cross', negatives: 3, sharedNormaliser: false });
  perTerm.loadState(shared.state());
  assert.deepEqual(Object.values(perTerm.normalisers).map((n) => n.logZ), new Array(4).fill(Math.log(3)));
  perTerm.dispose();
  shared.dispose();
});
