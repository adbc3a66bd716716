// Parity with the reference's own criterion code (facebookresearch/AVID-CMA criterions/nce.py, avid.py,
// avid_cma.py, transcribed in test/helpers/reference_criterions.py and run by python3-torch): the same
// embeddings, memory banks, positive sets, negative indices and Z give the same Self, Cross and Joint AVID and
// CMA terms, the same total (up to the reference's constant factor: it halves each term and normalises the
// coefficients) and the same memory banks after the update, within 1e-5. Two steps each, so that the second
// step runs on the banks and the Z that the first one left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../../src/tensor/index.js';
import { AvidObjective, AVID_NEGATIVES_STREAM, type AvidVariant } from '../../src/ssl/avid.js';
import { CmaObjective } from '../../src/ssl/cma.js';
import type { StepContext } from '../../src/ssl/objective.js';
import { pythonTorchSkipReason, torchCompute } from '../helpers/python.js';
import { assertClose } from '../helpers/compare.js';

const helpers = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'helpers');
const skip = pythonTorchSkipReason() ?? false;
const N = 30;
const DIM = 16;
const B = 6;
const TOL = { rtol: 1e-5, atol: 1e-5 };

class ProbeAvid extends AvidObjective {
  draw(index: T.Tensor, ctx: StepContext): T.Tensor {
    return this.negativesFor(index, ctx, AVID_NEGATIVES_STREAM);
  }
}

/** CMA whose wMPD negatives are the first Kn cross-modal ones, as the reference takes them. */
class ProbeCma extends CmaObjective {
  protected override wmpdNegativesFor(index: T.Tensor, _candidates: T.Tensor, ctx: StepContext): T.Tensor {
    return T.tidy(() => this.crossModalNegatives(index, ctx).narrow(1, 0, this.cma.wmpdNegatives).contiguous());
  }
}

const context = (step: number): StepContext => ({ seed: 4, epoch: 0, step, gather: (t) => t.alias() });

/** Two batches of unit-norm embeddings with distinct instance indices per batch. */
function batches(seed: number): { video: T.Tensor; audio: T.Tensor; index: T.Tensor }[] {
  const g = new T.Generator(seed);
  return [0, 1].map(() => {
    const order = T.randperm(N, { generator: g }).narrow(0, 0, B).contiguous();
    return {
      video: T.functional.normalize(T.randn([B, DIM], { generator: g })),
      audio: T.functional.normalize(T.randn([B, DIM], { generator: g })),
      index: order,
    };
  });
}

const scalar = (v: number) => T.tensor(Float32Array.from([v]), [1]);

const IMPORT = `
import sys
sys.path.insert(0, ${JSON.stringify(helpers)})
from reference_criterions import AVID, AVID_CMA
`;

const AVID_SCRIPT = `${IMPORT}
x_modal = inputs['xModal'].item() > 0
w_modal = inputs['wModal'].item() > 0
coeff = (inputs['crossWeight'].item(), inputs['selfWeight'].item())
criterion = AVID(inputs['videoBank'], inputs['audioBank'], x_modal, w_modal, coeff, momentum=0.5, shared_criterion=inputs['shared'].item() > 0)
for s in (0, 1):
    total, terms = criterion(inputs[f'video{s}'], inputs[f'audio{s}'], inputs[f'index{s}'], inputs[f'negatives{s}'])
    outputs[f'total{s}'] = total.reshape(1)
    for k, v in terms.items():
        outputs[f'{k}{s}'] = v.detach().reshape(1)
outputs['videoBankAfter'] = criterion.nce_average.view1_mem
outputs['audioBankAfter'] = criterion.nce_average.view2_mem
`;

for (const shared of [true, false]) {
  for (const variant of ['self', 'cross', 'joint'] as AvidVariant[]) {
    test(`${variant}-AVID (${shared ? 'one shared Z, as the reference' : 'one Z per term'}) equals the reference criterion over two steps`, { skip }, () => {
      T.tidy(() => {
        const objective = new ProbeAvid({ numInstances: N, dim: DIM, variant, negatives: 12, tau: 0.07, memoryMomentum: 0.5, sharedNormaliser: shared, crossWeight: 1, selfWeight: variant === 'joint' ? 0.5 : 1, seed: 2 });
        const inputs: Record<string, T.Tensor> = {
          videoBank: objective.videoBank.bank.clone(),
          audioBank: objective.audioBank.bank.clone(),
          xModal: scalar(objective.crossWeight > 0 ? 1 : 0),
          wModal: scalar(objective.selfWeight > 0 ? 1 : 0),
          crossWeight: scalar(objective.crossWeight),
          selfWeight: scalar(objective.selfWeight),
          shared: scalar(shared ? 1 : 0),
        };
        const ours: { total: number; terms: Record<string, number> }[] = [];
        batches(31).forEach((batch, s) => {
          const ctx = context(s);
          Object.assign(inputs, { [`video${s}`]: batch.video, [`audio${s}`]: batch.audio, [`index${s}`]: batch.index, [`negatives${s}`]: objective.draw(batch.index, ctx) });
          const out = objective.loss(batch, ctx);
          ours.push({ total: out.loss.item(), terms: out.terms });
          objective.afterStep(batch, ctx);
        });
        const reference = torchCompute(AVID_SCRIPT, inputs);
        // The reference's total: Σ term/2 · coefficient/Σ coefficients; avid's: Σ coefficient · term.
        const factor = 2 * (objective.crossWeight + objective.selfWeight);
        ours.forEach(({ total, terms }, s) => {
          assert.deepEqual(Object.keys(terms).sort(), { self: ['a2a', 'v2v'], cross: ['a2v', 'v2a'], joint: ['a2a', 'a2v', 'v2a', 'v2v'] }[variant]);
          for (const [name, value] of Object.entries(terms)) assertClose(scalar(value), reference.get(`${name}${s}`)!, `step ${s} ${name}`, TOL);
          assertClose(scalar(total), reference.get(`total${s}`)!.mul(factor), `step ${s} total`, TOL);
        });
        assertClose(objective.videoBank.bank, reference.get('videoBankAfter')!, 'video bank after two updates', TOL);
        assertClose(objective.audioBank.bank, reference.get('audioBankAfter')!, 'audio bank after two updates', TOL);
        objective.dispose();
      });
    });
  }
}

const CMA_SCRIPT = `${IMPORT}
zs = inputs['checkpointZ'].tolist() if 'checkpointZ' in inputs else None
criterion = AVID_CMA(inputs['videoBank'], inputs['audioBank'], inputs['positives'], num_negatives_within=int(inputs['wmpdNegatives'].item()),
                     momentum=0.5, xModalInstCoeff=1., wModalPosCoeff=inputs['lambda'].item(), checkpoint_zs=zs)
for s in (0, 1):
    total, terms = criterion(inputs[f'video{s}'], inputs[f'audio{s}'], inputs[f'index{s}'], inputs[f'negatives{s}'])
    outputs[f'total{s}'] = total.reshape(1)
    for k, v in terms.items():
        outputs[f'{k}{s}'] = v.detach().reshape(1)
outputs['Z'] = criterion.criterion.avg_exp_score.reshape(1)
outputs['videoBankAfter'] = criterion.nce_average.view1_mem
outputs['audioBankAfter'] = criterion.nce_average.view2_mem
`;

for (const restored of [false, true]) {
  test(`CMA (cross-modal instance + within-modal positive discrimination, ${restored ? 'Z restored from a per-term AVID checkpoint' : 'Z from the first term'}) equals the reference criterion over two steps`, { skip }, () => {
    T.tidy(() => {
      const lambda = 0.5;
      const objective = new ProbeCma({ numInstances: N, dim: DIM, negatives: 12, tau: 0.07, memoryMomentum: 0.5, sharedNormaliser: true, seed: 3, positives: 4, wmpdNegatives: 5, lambda, agreement: 'agreement', remineEveryEpochs: 100 });
      // Positive sets as the reference keeps them: sorted, never the instance itself.
      const g = new T.Generator(8);
      const positives = T.stack(Array.from({ length: N }, (_, i) => T.randperm(N - 1, { generator: g }).narrow(0, 0, 4).add(1).add(i).remainder(N).sort(0).values));
      const inputs: Record<string, T.Tensor> = {
        videoBank: objective.videoBank.bank.clone(),
        audioBank: objective.audioBank.bank.clone(),
        positives,
        wmpdNegatives: scalar(5),
        lambda: scalar(lambda),
      };
      const logZ = { v2a: 1.3, a2v: 0.4, v2v: null, a2a: null };
      objective.loadState({
        tensors: new Map([['memory.video', inputs.videoBank], ['memory.audio', inputs.audioBank], ['cma.positives', positives]]),
        scalars: restored ? { logZ, minedAtEpoch: 0 } : { minedAtEpoch: 0 },
      });
      if (restored) inputs.checkpointZ = T.tensor(Float32Array.from([Math.exp(logZ.v2a), Math.exp(logZ.a2v)]), [2]);
      const ours: { total: number; terms: Record<string, number> }[] = [];
      batches(57).forEach((batch, s) => {
        const ctx = context(s);
        const negatives = objective.crossModalNegatives(batch.index, ctx);
        Object.assign(inputs, { [`video${s}`]: batch.video, [`audio${s}`]: batch.audio, [`index${s}`]: batch.index, [`negatives${s}`]: negatives });
        const out = objective.loss(batch, ctx);
        ours.push({ total: out.loss.item(), terms: out.terms });
        objective.afterStep(batch, ctx);
      });
      const reference = torchCompute(CMA_SCRIPT, inputs);
      const names: Record<string, string> = { v2a: 'inst-v2a', a2v: 'inst-a2v', wmpd_v: 'pos-v2v', wmpd_a: 'pos-a2a' };
      ours.forEach(({ total, terms }, s) => {
        assert.deepEqual(Object.keys(terms).sort(), Object.keys(names).sort());
        for (const [name, value] of Object.entries(terms)) assertClose(scalar(value), reference.get(`${names[name]}${s}`)!, `step ${s} ${name}`, TOL);
        // Reference: (v2a + a2v)/2 · 1/(1+λ) + (v2v + a2a)/2 · λ/(1+λ); avid: v2a + a2v + λ(v2v + a2a).
        assertClose(scalar(total), reference.get(`total${s}`)!.mul(2 * (1 + lambda)), `step ${s} total`, TOL);
      });
      assertClose(scalar(Math.exp(objective.normalisers.v2a.logZ!)), reference.get('Z')!, 'Z', TOL);
      assert.equal(objective.wmpdNormalisers.video, objective.normalisers.v2a, 'wMPD uses the one shared Z');
      assertClose(objective.videoBank.bank, reference.get('videoBankAfter')!, 'video bank after two updates', TOL);
      assertClose(objective.audioBank.bank, reference.get('audioBankAfter')!, 'audio bank after two updates', TOL);
      objective.dispose();
    });
  });
}
