// One full training step (both encoders forward, a contrastive loss, backward, Adam step) for R(2+1)D-10 +
// the audio net at the size, beside the same step in PyTorch (python3-torch) in the same run.
// Prints one JSON line. Options: --batch 8 --frames 8 --size 112 --steps 5 --width 1 --threads 2
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../src/tensor/index.js';
import { createModel } from '../src/models/index.js';
import { Adam } from '../src/optim/index.js';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '8' },
    frames: { type: 'string', default: '8' },
    size: { type: 'string', default: '112' },
    width: { type: 'string', default: '1' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    depth: { type: 'string', default: '10' },
    'no-reference': { type: 'boolean', default: false },
  },
});
const cfg = {
  batch: Number(values.batch),
  frames: Number(values.frames),
  size: Number(values.size),
  width: Number(values.width),
  steps: Number(values.steps),
  warmup: Number(values.warmup),
  threads: Number(values.threads),
  depth: Number(values.depth),
  audio_frames: 100,
  audio_bins: 129,
};

T.setNumThreads(cfg.threads);
T.manualSeed(0);
const model = createModel(cfg.depth === 18 ? 'av-r2plus1d-18' : 'av-r2plus1d-10', { width: cfg.width });
const optimizer = new Adam(model.parameters(), { lr: 1e-4, weightDecay: 1e-5 });
const video = T.randn([cfg.batch, 3, cfg.frames, cfg.size, cfg.size]);
const audio = T.randn([cfg.batch, 1, cfg.audio_frames, cfg.audio_bins]);
const target = T.arange(cfg.batch);

function step(): void {
  T.tidy(() => {
    optimizer.zeroGrad();
    const { video: v, audio: a } = model.forward(video, audio);
    const logits = v.matmul(a.T).div(0.07);
    const loss = T.functional.crossEntropy(logits, target).add(T.functional.crossEntropy(logits.T, target));
    loss.backward();
    optimizer.update();
  });
}

for (let i = 0; i < cfg.warmup; i++) step();
const times: number[] = [];
for (let i = 0; i < cfg.steps; i++) {
  const t0 = performance.now();
  step();
  times.push((performance.now() - t0) / 1000);
}
times.sort((a, b) => a - b);
const avidStep = times[Math.floor(times.length / 2)];

let torchStep: number | null = null;
if (!values['no-reference']) {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '../python/bench_train_step.py');
  const r = spawnSync('/usr/bin/python3', [script, JSON.stringify(cfg)], { encoding: 'utf8' });
  if (r.status === 0) torchStep = JSON.parse(r.stdout.trim().split('\n').pop()!).median_step_s;
  else process.stderr.write(`reference run failed: ${r.stderr}\n`);
}

const clipsPerSec = (s: number) => cfg.batch / s;
console.log(
  JSON.stringify({
    bench: 'train-step',
    config: cfg,
    avid: { stepSeconds: avidStep, clipsPerSec: clipsPerSec(avidStep) },
    pytorch: torchStep === null ? null : { stepSeconds: torchStep, clipsPerSec: clipsPerSec(torchStep) },
    ratio: torchStep === null ? null : clipsPerSec(avidStep) / clipsPerSec(torchStep),
    target: 'ratio >= 1.0',
  }),
);
