import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as T from '../../src/tensor/index.js';
import { Adam, AdamW, SGD, schedules, clipGradNorm } from '../../src/optim/index.js';

const hasTorch = existsSync('/usr/bin/python3') && spawnSync('/usr/bin/python3', ['-c', 'import torch']).status === 0;

// Runs the same 5 steps of a quadratic loss in PyTorch and returns the final parameters.
function torchSteps(kind: string, w0: number[]): number[] {
  const script = `
import torch, json, sys
w = torch.tensor(${JSON.stringify(w0)}, dtype=torch.float64, requires_grad=True)
opt = ${kind}
for i in range(5):
    opt.zero_grad()
    loss = ((w - torch.arange(len(w), dtype=torch.float64)) ** 2 * torch.linspace(1, 3, len(w), dtype=torch.float64)).sum()
    loss.backward()
    opt.step()
print(json.dumps(w.detach().tolist()))`;
  const r = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

function oursSteps(make: (p: T.Tensor[]) => { zeroGrad(): void; update(): void; dispose(): void }, w0: number[]): number[] {
  const w = T.tensor(Float64Array.from(w0)).requiresGrad_();
  const opt = make([w]);
  for (let i = 0; i < 5; i++) {
    T.tidy(() => {
      opt.zeroGrad();
      const target = T.arange(w0.length, undefined, 1, { dtype: 'float64' });
      const weights = T.linspace(1, 3, w0.length, { dtype: 'float64' });
      w.sub(target).square().mul(weights).sum().backward();
      opt.update();
    });
  }
  opt.dispose();
  return w.toArray();
}

const w0 = [0.5, -1.0, 2.0, 0.25];
const close = (a: number[], b: number[]) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-9, `${a} vs ${b}`));

test('Adam, AdamW and SGD match torch.optim step for step', { skip: !hasTorch && 'python3-torch not installed' }, () => {
  close(oursSteps((p) => new Adam(p, { lr: 0.1, weightDecay: 0.01 }), w0), torchSteps('torch.optim.Adam([w], lr=0.1, weight_decay=0.01)', w0));
  close(oursSteps((p) => new AdamW(p, { lr: 0.1, weightDecay: 0.05 }), w0), torchSteps('torch.optim.AdamW([w], lr=0.1, weight_decay=0.05)', w0));
  close(
    oursSteps((p) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }), w0),
    torchSteps('torch.optim.SGD([w], lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)', w0),
  );
  close(oursSteps((p) => new SGD(p, { lr: 0.05, momentum: 0.9, dampening: 0.1 }), w0), torchSteps('torch.optim.SGD([w], lr=0.05, momentum=0.9, dampening=0.1)', w0));
});

test('schedules', () => {
  const ms = schedules.multistep([60, 100, 140], 0.3);
  assert.equal(ms(0), 1);
  assert.ok(Math.abs(ms(100) - 0.09) < 1e-12);
  const cos = schedules.cosine(100, 0);
  assert.equal(cos(0), 1);
  assert.ok(Math.abs(cos(50) - 0.5) < 1e-12);
  assert.ok(Math.abs(cos(100)) < 1e-12);
  const warm = schedules.linearWarmup(10, 0.05, schedules.cosine(90));
  assert.ok(Math.abs(warm(0) - 0.05) < 1e-12);
  assert.ok(Math.abs(warm(5) - 0.525) < 1e-12);
  assert.equal(warm(10), 1);
});

test('gradient-norm clipping scales to the maximum and returns the norm', () => {
  const p = T.tensor(new Float32Array([1, 1])).requiresGrad_();
  T.tidy(() => p.mul(T.tensor(new Float32Array([3, 4]))).sum().backward());
  const norm = clipGradNorm([p], 1);
  assert.ok(Math.abs(norm - 5) < 1e-5);
  const g = p.grad!.toArray();
  assert.ok(Math.abs(g[0] - 0.6) < 1e-5 && Math.abs(g[1] - 0.8) < 1e-5);
});

test('optimizer state dict round trip continues identically', () => {
  const run = (restore: boolean) => {
    const w = T.tensor(Float64Array.from(w0)).requiresGrad_();
    let opt = new Adam([w], { lr: 0.1 });
    for (let i = 0; i < 6; i++) {
      if (restore && i === 3) {
        const state = opt.stateDict();
        const copy = { tensors: new Map([...state.tensors].map(([k, t]) => [k, T.keep(t.clone())])), scalars: structuredClone(state.scalars) };
        opt.dispose();
        opt = new Adam([w], { lr: 0.1 });
        opt.loadStateDict(copy);
      }
      T.tidy(() => {
        opt.zeroGrad();
        w.square().sum().backward();
        opt.update();
      });
    }
    return w.toArray();
  };
  assert.deepEqual(run(true), run(false));
});
