import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { InBatchObjective, MIN_LEARNED_TAU } from '../../src/ssl/in-batch-nce.js';
import { LongFormSampler } from '../../src/data/long-form-sampler.js';
import { parseConfig } from '../../src/config/load.js';
import { objectiveFromConfig, optimizerFromConfig } from '../../src/train/from-config.js';
import { pythonTorchSkipReason, torchCompute } from '../helpers/python.js';
import { assertClose } from '../helpers/compare.js';
import { assertSteadyTensorCount } from '../helpers/memory.js';

const ctx = (step = 0) => ({ seed: 3, epoch: 0, step, gather: (t: T.Tensor) => t.alias() });

const rowsOf = (t: T.Tensor): number[][] => {
  const [n, d] = t.shape;
  const flat = t.toArray() as number[];
  return Array.from({ length: n }, (_, i) => flat.slice(i * d, (i + 1) * d));
};
const dot = (x: number[], y: number[]) => x.reduce((s, xi, i) => s + xi * y[i], 0);
/** −log softmax(logits)[target], in doubles. */
const crossEntropy = (logits: number[], target: number) => {
  const max = Math.max(...logits);
  return max + Math.log(logits.reduce((s, l) => s + Math.exp(l - max), 0)) - logits[target];
};

/** The loss by hand: each anchor against the other modality's batch rows (and its own bank rows), both ways. */
function bruteForceLoss(video: number[][], audio: number[][], tau: number, bankAudio?: number[][][], bankVideo?: number[][][]): { v2a: number; a2v: number } {
  const direction = (anchors: number[][], candidates: number[][], bank?: number[][][]) =>
    anchors.reduce((sum, x, i) => sum + crossEntropy([...candidates, ...(bank?.[i] ?? [])].map((c) => dot(x, c) / tau), i), 0) / anchors.length;
  return { v2a: direction(video, audio, bankAudio), a2v: direction(audio, video, bankVideo) };
}

test('in-batch InfoNCE equals the loss computed by hand, both directions, with and without bank negatives', () => {
  T.tidy(() => {
    const g = new T.Generator(11);
    const video = T.functional.normalize(T.randn([5, 6], { generator: g }));
    const audio = T.functional.normalize(T.randn([5, 6], { generator: g }));
    const index = T.tensor(BigInt64Array.from([4n, 0n, 7n, 2n, 9n]), [5]);
    const batchOnly = new InBatchObjective({ tau: 0.2 });
    const out = batchOnly.loss({ video, audio, index }, ctx());
    const expected = bruteForceLoss(rowsOf(video), rowsOf(audio), 0.2);
    assert.ok(Math.abs(out.terms.v2a - expected.v2a) < 1e-5, `v2a ${out.terms.v2a} vs ${expected.v2a}`);
    assert.ok(Math.abs(out.terms.a2v - expected.a2v) < 1e-5, `a2v ${out.terms.a2v} vs ${expected.a2v}`);
    assert.ok(Math.abs(out.loss.item() - (expected.v2a + expected.a2v)) < 1e-5);
    batchOnly.dispose();

    const withBank = new InBatchObjective({ tau: 0.2, bankNegatives: 4, numInstances: 12, dim: 6, seed: 5 });
    const negatives = withBank.bankNegativesFor(index, ctx());
    const negativeRows = (negatives.toArray() as number[]).map(Number);
    for (let i = 0; i < 5; i++) for (const j of negativeRows.slice(i * 4, i * 4 + 4)) assert.notEqual(j, Number((index.toArray() as number[])[i]), 'a bank negative is the anchor itself');
    const bankRows = (bank: T.Tensor) => rowsOf(bank.indexSelect(0, negatives.flatten())).reduce<number[][][]>((acc, row, r) => (r % 4 === 0 ? acc.push([row]) : acc[acc.length - 1].push(row), acc), []);
    const withBankOut = withBank.loss({ video, audio, index }, ctx());
    const expectedBank = bruteForceLoss(rowsOf(video), rowsOf(audio), 0.2, bankRows(withBank.banks!.audio.bank), bankRows(withBank.banks!.video.bank));
    assert.ok(Math.abs(withBankOut.terms.v2a - expectedBank.v2a) < 1e-5, `v2a ${withBankOut.terms.v2a} vs ${expectedBank.v2a}`);
    assert.ok(Math.abs(withBankOut.terms.a2v - expectedBank.a2v) < 1e-5, `a2v ${withBankOut.terms.a2v} vs ${expectedBank.a2v}`);
    assert.ok(expectedBank.v2a > expected.v2a, 'bank negatives add to the denominator');
    withBank.dispose();
  });
});

test('loss and gradients (embeddings and the learned log τ) match python3-torch', { skip: pythonTorchSkipReason() ?? false }, () => {
  T.tidy(() => {
    const g = new T.Generator(2);
    const video = T.functional.normalize(T.randn([6, 8], { generator: g })).requiresGrad_();
    const audio = T.functional.normalize(T.randn([6, 8], { generator: g })).requiresGrad_();
    const index = T.arange(6);
    const objective = new InBatchObjective({ tau: 0.1, learnTemperature: true, bankNegatives: 5, numInstances: 20, dim: 8, seed: 1 });
    const negatives = objective.bankNegativesFor(index, ctx());
    const out = objective.loss({ video, audio, index }, ctx());
    out.loss.backward();
    const reference = torchCompute(
      `
import torch.nn.functional as F
v = inputs['video'].double().requires_grad_()
a = inputs['audio'].double().requires_grad_()
lt = inputs['logTau'].double().requires_grad_()
bank_a, bank_v = inputs['bankAudio'].double(), inputs['bankVideo'].double()
scale = torch.exp(-lt).clamp(max=100)
lv = torch.cat([v @ a.t(), torch.bmm(bank_a, v.unsqueeze(2)).squeeze(2)], 1) * scale
la = torch.cat([a @ v.t(), torch.bmm(bank_v, a.unsqueeze(2)).squeeze(2)], 1) * scale
target = torch.arange(v.shape[0])
loss = F.cross_entropy(lv, target) + F.cross_entropy(la, target)
loss.backward()
outputs['loss'] = loss.detach().float().reshape(1)
outputs['gradVideo'] = v.grad.float()
outputs['gradAudio'] = a.grad.float()
outputs['gradLogTau'] = lt.grad.float().reshape(1)
`,
      {
        video: video.detach(),
        audio: audio.detach(),
        logTau: objective.logTemperature!.detach().reshape([1]),
        bankAudio: objective.banks!.audio.rows(negatives),
        bankVideo: objective.banks!.video.rows(negatives),
      },
    );
    assertClose(out.loss.reshape([1]), reference.get('loss')!, 'loss', { rtol: 1e-5, atol: 1e-5 });
    assertClose(video.grad!, reference.get('gradVideo')!, 'd loss / d video', { rtol: 1e-4, atol: 1e-5 });
    assertClose(audio.grad!, reference.get('gradAudio')!, 'd loss / d audio', { rtol: 1e-4, atol: 1e-5 });
    assertClose(objective.logTemperature!.grad!.reshape([1]), reference.get('gradLogTau')!, 'd loss / d log τ', { rtol: 1e-4, atol: 1e-5 });
    objective.dispose();
  });
});

test('a training step (loss, backward, bank update) leaves the live-tensor count unchanged', () => {
  const objective = new InBatchObjective({ tau: 0.07, learnTemperature: true, bankNegatives: 6, numInstances: 16, dim: 8 });
  const g = new T.Generator(4);
  assertSteadyTensorCount((step) => {
    T.tidy(() => {
      const video = T.functional.normalize(T.randn([4, 8], { generator: g })).requiresGrad_();
      const audio = T.functional.normalize(T.randn([4, 8], { generator: g })).requiresGrad_();
      const index = T.tensor(BigInt64Array.from([1n, 5n, 5n, 12n]), [4]); // two clips of one long video share an instance
      const out = objective.loss({ video, audio, index }, ctx(step));
      out.loss.backward();
      objective.afterStep({ video: video.detach(), audio: audio.detach(), index }, ctx(step));
      objective.logTemperature!.grad!.zero_();
    });
  }, 4, 'an in-batch step');
  objective.dispose();
});

test('the learned temperature is an optimizer parameter without weight decay, moves, is saved and restored', () => {
  const config = parseConfig({ data: { source: 'x' }, objective: { kind: 'in-batch', tau: 0.1, inBatch: { learnTemperature: true } }, optim: { name: 'adam', lr: 0.01, weightDecay: 0.5 } });
  const objective = objectiveFromConfig(config, 10) as InBatchObjective;
  assert.equal(objective.name, 'in-batch');
  const weight = T.keep(T.tidy(() => T.randn([8, 8], { generator: new T.Generator(1) }))).requiresGrad_(true);
  const optimizer = optimizerFromConfig(config, [weight], objective.parameters());
  assert.equal(optimizer.groups.length, 2);
  assert.equal((optimizer.groups[1].hyper as { weightDecay: number }).weightDecay, 0);
  assert.equal(optimizer.groups[1].params[0], objective.logTemperature);
  const before = objective.temperature();
  assert.ok(Math.abs(before - 0.1) < 1e-6);
  T.tidy(() => {
    const x = T.functional.normalize(T.randn([6, 8], { generator: new T.Generator(2) }));
    const out = objective.loss({ video: T.functional.normalize(x.mm(weight)), audio: x, index: T.arange(6) }, ctx());
    out.loss.backward();
    optimizer.update();
  });
  const after = objective.temperature();
  assert.notEqual(after, before, 'the optimizer step moved τ');
  const saved = T.tidy(() => T.keep(objective.state().tensors.get('in-batch.logTemperature')!.detach().clone()));
  const fresh = new InBatchObjective({ tau: 0.1, learnTemperature: true });
  fresh.loadState({ tensors: new Map([['in-batch.logTemperature', saved]]), scalars: {} });
  assert.ok(Math.abs(fresh.temperature() - after) < 1e-7);
  assert.ok(fresh.logTemperature!.requiresGrad, 'log τ stays a parameter after loading');
  // Below its bound the temperature is held there.
  T.noGrad(() => fresh.logTemperature!.fill_(Math.log(MIN_LEARNED_TAU / 10)));
  T.tidy(() => fresh.afterStep({ video: T.zeros([1, 8]), audio: T.zeros([1, 8]), index: T.arange(1) }, ctx()));
  assert.ok(Math.abs(fresh.temperature() - MIN_LEARNED_TAU) < 1e-7);
  for (const t of [saved, weight]) t.dispose();
  for (const o of [fresh, objective]) o.dispose();
  optimizer.dispose();
});

/**
 * Embeddings of a long-form world: V long videos of C clips; a clip's video and audio embeddings share the
 * video's look/sound (a per-video vector) and the clip's own content, which drifts slowly along the video
 * (adjacent clips are more alike than distant ones), plus a little modality-specific noise.
 */
function longFormEmbeddings(videos: number, clips: number, dim: number): { video: T.Tensor; audio: T.Tensor } {
  return T.tidy(() => {
    const g = new T.Generator(17);
    const perVideo = T.randn([videos, 1, dim], { generator: g });
    const steps = T.randn([videos, clips, dim], { generator: g });
    // AR(1) drift: content_j = ρ·content_{j−1} + √(1 − ρ²)·step_j, unit variance throughout.
    const rho = 0.9;
    const drift: T.Tensor[] = [steps.narrow(1, 0, 1)];
    for (let j = 1; j < clips; j++) drift.push(drift[j - 1].mul(rho).add(steps.narrow(1, j, 1).mul(Math.sqrt(1 - rho * rho))));
    const content = perVideo.mul(1.2).add(T.cat(drift, 1)).reshape([videos * clips, dim]);
    const embed = () => T.functional.normalize(content.add(T.randn([videos * clips, dim], { generator: g }).mul(0.4)));
    return { video: embed(), audio: embed() };
  });
}

test('long-form sampling changes the in-batch loss at init: higher for larger k, and for adjacent clips (w = k)', () => {
  const videos = 32;
  const clips = 32;
  const batchSize = 64;
  const { video, audio } = longFormEmbeddings(videos, clips, 32);
  const objective = new InBatchObjective({ tau: 0.1 });
  const meanLoss = (k: number, w: number | 'video') =>
    T.tidy(() => {
      const sampler = new LongFormSampler(new Array(videos).fill(clips), { k, w, batchSize, seed: 0 });
      const losses: number[] = [];
      for (let epoch = 0; epoch < 3; epoch++) {
        const order = sampler.epochOrder(epoch);
        for (let start = 0; start + batchSize <= order.length; start += batchSize) {
          const items = T.tensor(BigInt64Array.from(order.slice(start, start + batchSize).map(BigInt)), [batchSize]);
          losses.push(objective.loss({ video: video.indexSelect(0, items), audio: audio.indexSelect(0, items), index: items }, ctx()).loss.item());
        }
      }
      return losses.reduce((a, b) => a + b, 0) / losses.length;
    });
  const uniform = meanLoss(1, 'video');
  const k4 = meanLoss(4, 'video');
  const k16 = meanLoss(16, 'video');
  const k4adjacent = meanLoss(4, 4);
  // The group's members are each other's hard negatives: more of them, or closer in time, and the loss rises.
  assert.ok(k4 > uniform + 0.05, `k=4 ${k4} vs k=1 ${uniform}`);
  assert.ok(k16 > k4 + 0.05, `k=16 ${k16} vs k=4 ${k4}`);
  assert.ok(k4adjacent > k4 + 0.05, `k=4 w=4 ${k4adjacent} vs k=4 w=video ${k4}`);
  objective.dispose();
  video.dispose();
  audio.dispose();
});
