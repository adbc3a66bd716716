// Parity with the reference criterion (facebookresearch/AVID-CMA, criterions/nce.py and avid.py), re-written
// here in python3-torch from its semantics: the exponential form of NCE with one normalisation constant Z
// (the mean of exp(score) over the first term's negatives on the first call, then fixed, for every term),
// positives' terms averaged, negatives' summed; memory banks updated by index_select, EMA, normalise,
// index_copy. Same embeddings, banks, indices and negatives in, the same per-term losses and banks out.
// (The reference's total halves each term and normalises the weights; avid sums the terms: a constant factor.)
import { test } from 'node:test';
import * as T from '../../src/tensor/index.js';
import { AvidObjective, AVID_NEGATIVES_STREAM, type AvidVariant } from '../../src/ssl/avid.js';
import { pythonTorchSkipReason, torchCompute } from '../helpers/python.js';
import { assertClose } from '../helpers/compare.js';

class ProbeAvid extends AvidObjective {
  draw(index: T.Tensor, ctx: { seed: number; epoch: number; step: number; gather: (t: T.Tensor) => T.Tensor }): T.Tensor {
    return this.negativesFor(index, ctx, AVID_NEGATIVES_STREAM);
  }
}

const REFERENCE = `
import torch.nn.functional as F
tau, mom = 0.07, 0.5
v, a = inputs['video'].double(), inputs['audio'].double()
vm, am = inputs['videoBank'].double().clone(), inputs['audioBank'].double().clone()
y, neg = inputs['index'], inputs['negatives']
terms = [t for t in ['v2a', 'a2v', 'v2v', 'a2a'] if inputs['use_' + t].item() > 0]
Z = None
def nce(x, pos_mem, neg_mem):
    global Z
    pos = torch.bmm(pos_mem, x.unsqueeze(2)).squeeze(2) / tau
    negs = torch.bmm(neg_mem, x.unsqueeze(2)).squeeze(2) / tau
    k = negs.shape[1]
    ep, en = torch.exp(pos), torch.exp(negs)
    if Z is None:
        Z = en.mean()
    lp = -torch.log(ep / (ep + k * Z)).mean(-1)
    ln = -torch.log(k * Z / (en + k * Z)).sum(-1)
    return (lp + ln).mean()
mems = {'v2a': (v, am), 'a2v': (a, vm), 'v2v': (v, vm), 'a2a': (a, am)}
for t in terms:
    x, mem = mems[t]
    outputs[t] = nce(x, mem[y].unsqueeze(1), mem[neg]).float().reshape(1)
for x, mem, name in [(v, vm, 'videoBankAfter'), (a, am, 'audioBankAfter')]:
    rows = torch.index_select(mem, 0, y) * mom + x * (1 - mom)
    mem.index_copy_(0, y, F.normalize(rows, p=2, dim=1))
    outputs[name] = mem.float()
`;

for (const variant of ['self', 'cross', 'joint'] as AvidVariant[]) {
  test(`${variant}-AVID terms and memory updates match the reference criterion's semantics`, { skip: pythonTorchSkipReason() ?? false }, () => {
    T.tidy(() => {
      const g = new T.Generator(31);
      const video = T.functional.normalize(T.randn([6, 16], { generator: g }));
      const audio = T.functional.normalize(T.randn([6, 16], { generator: g }));
      const index = T.tensor(BigInt64Array.from([3n, 17n, 0n, 25n, 9n, 11n]), [6]);
      const ctx = { seed: 4, epoch: 0, step: 0, gather: (t: T.Tensor) => t.alias() };
      const objective = new ProbeAvid({ numInstances: 30, dim: 16, variant, negatives: 12, tau: 0.07, memoryMomentum: 0.5, seed: 2 });
      const videoBank = objective.videoBank.bank.clone();
      const audioBank = objective.audioBank.bank.clone();
      const negatives = objective.draw(index, ctx);
      const out = objective.loss({ video, audio, index }, ctx);
      objective.afterStep({ video, audio, index }, ctx);
      const used = (t: string) => T.tensor(Float32Array.from([t in out.terms ? 1 : 0]), [1]);
      const reference = torchCompute(REFERENCE, { video, audio, videoBank, audioBank, index, negatives, use_v2a: used('v2a'), use_a2v: used('a2v'), use_v2v: used('v2v'), use_a2a: used('a2a') });
      for (const [name, value] of Object.entries(out.terms)) assertClose(T.tensor(Float32Array.from([value]), [1]), reference.get(name)!, `${variant} ${name}`, { rtol: 1e-5, atol: 1e-5 });
      assertClose(objective.videoBank.bank, reference.get('videoBankAfter')!, 'video bank after the update', { rtol: 1e-5, atol: 1e-6 });
      assertClose(objective.audioBank.bank, reference.get('audioBankAfter')!, 'audio bank after the update', { rtol: 1e-5, atol: 1e-6 });
      objective.dispose();
    });
  });
}
