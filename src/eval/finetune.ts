// Fine-tuning (PAPERS.md "Downstream protocols"): the whole encoder (the video or the audio branch of an
// audio-visual model, or a bare encoder) with a new linear classifier on its globally max-pooled conv5x
// features behind dropout, trained end to end with Adam (lr 1e-4), the learning rate multiplied by 0.3 at
// milestones placed where the papers put them (60/100/140 of 160 epochs, scaled to the epochs given).
// Batch-norm layers are in training mode while training (their statistics adapt to the new data) and in
// evaluation mode at test, where each test sample's K clip predictions are averaged (video-level accuracy).
// The batches come from a FinetuneBatchSource, so the loop is the same for media files and for tensors.
import * as T from '../tensor/index.js';
import { Module, Dropout, Linear } from '../nn/index.js';
import { Adam, schedules } from '../optim/index.js';

/** What fine-tuning needs of an encoder: (B, ...) input → (B, D) pooled features, D = outChannels. */
export interface PooledEncoder extends Module {
  forward(x: T.Tensor): T.Tensor;
  readonly outChannels: number;
}

/** The encoder, dropout and a new linear layer: input → class logits. */
export class FinetuneClassifier extends Module {
  readonly encoder: PooledEncoder;
  readonly dropout: Dropout;
  readonly classifier: Linear;

  constructor(encoder: PooledEncoder, numClasses: number, o: { dropout?: number; generator?: T.Generator } = {}) {
    super();
    if (!Number.isInteger(numClasses) || numClasses < 2) throw new Error(`fine-tuning needs at least 2 classes, got ${numClasses}`);
    const p = o.dropout ?? 0.5;
    if (!(p >= 0 && p < 1)) throw new Error(`dropout must be in [0, 1), got ${p}`);
    this.encoder = this.registerModule('encoder', encoder);
    this.dropout = this.registerModule('dropout', new Dropout(p));
    this.classifier = this.registerModule('classifier', new Linear(encoder.outChannels, numClasses, { generator: o.generator }));
  }

  forward(x: T.Tensor): T.Tensor {
    return T.tidy(() => this.classifier.forward(this.dropout.forward(this.encoder.forward(x).flatten(1))));
  }
}

/** A training batch: inputs and their int64 class labels; the consumer disposes both. */
export interface TrainBatch {
  input: T.Tensor;
  labels: T.Tensor;
  /** The samples the rows are clips of, when the source knows them (tests check that no test sample trains). */
  samples?: number[];
}

/** A test batch: inputs and, per row, the test sample it is a clip of; the consumer disposes the input. */
export interface TestBatch {
  input: T.Tensor;
  samples: number[];
}

/**
 * Where fine-tuning's clips come from. Training clips are drawn afresh each epoch (from the seed, the epoch
 * and the sample index); test clips are the K fixed evaluation clips of each test sample.
 */
export interface FinetuneBatchSource {
  /** Test samples, in the order results are reported; `samples` of test batches index this list. */
  readonly testLabels: number[];
  trainBatches(epoch: number): AsyncIterable<TrainBatch>;
  testBatches(): AsyncIterable<TestBatch>;
}

export interface FinetuneOptions {
  epochs: number;
  /** Adam learning rate (default 1e-4, the papers'). */
  lr?: number;
  /** L2 weight decay of Adam (default 0). */
  weightDecay?: number;
  /** Epochs at which the learning rate is multiplied by gamma (default: 3/8, 5/8, 7/8 of epochs). */
  milestones?: number[];
  /** Default 0.3. */
  gamma?: number;
  /** Called after every optimiser step (tests watch memory and modes with it). */
  onStep?: (info: { epoch: number; step: number; loss: number; lr: number }) => void;
  /** Progress lines (default none). */
  log?: (line: string) => void;
}

export interface FinetuneEpoch {
  epoch: number;
  lr: number;
  /** Mean cross-entropy over the epoch's batches. */
  loss: number;
  /** Accuracy of the training batches' predictions (dropout on, batch statistics). */
  trainAccuracy: number;
  clips: number;
  seconds: number;
}

export interface FinetuneResult {
  /** Each test clip on its own. */
  clipAccuracy: number;
  /** Softmax predictions averaged over each test sample's clips. */
  videoAccuracy: number;
  testSamples: number;
  testClips: number;
  /** Predicted class per test sample (video level), in testLabels order. */
  predictions: number[];
  epochs: FinetuneEpoch[];
  milestones: number[];
  seconds: number;
}

/** The papers' milestones (60/100/140 of 160 epochs) scaled to `epochs`, deduplicated, each ≥ 1. */
export function scaledMilestones(epochs: number): number[] {
  return [...new Set([60, 100, 140].map((m) => Math.max(1, Math.round((m / 160) * epochs))))].filter((m) => m < epochs);
}

/**
 * Trains `model` (all its parameters) on the source's training batches for `o.epochs` epochs, then scores
 * the test clips in evaluation mode. The model is left in evaluation mode with its trained weights.
 */
export async function finetune(model: FinetuneClassifier, source: FinetuneBatchSource, o: FinetuneOptions): Promise<FinetuneResult> {
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new Error(`fine-tuning epochs must be a positive integer, got ${o.epochs}`);
  const started = performance.now();
  const milestones = o.milestones ?? scaledMilestones(o.epochs);
  const schedule = schedules.multistep(milestones, o.gamma ?? 0.3);
  const params = model.parameters();
  for (const p of params) p.requiresGrad_(true);
  const optimizer = new Adam(params, { lr: o.lr ?? 1e-4, weightDecay: o.weightDecay ?? 0 });
  const epochs: FinetuneEpoch[] = [];
  let step = 0;
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const epochStarted = performance.now();
      optimizer.setLrScale(schedule(epoch));
      const lr = optimizer.groups[0].lr;
      model.train();
      let lossSum = 0;
      let batches = 0;
      let correct = 0;
      let clips = 0;
      for await (const batch of source.trainBatches(epoch)) {
        try {
          const { loss, right } = T.tidy(() => {
            const logits = model.forward(batch.input);
            const l = T.functional.crossEntropy(logits, batch.labels);
            l.backward();
            const hits = logits.argmax(1).eq(batch.labels).sum().item();
            return { loss: l.item(), right: hits };
          });
          optimizer.update();
          optimizer.zeroGrad();
          step++;
          lossSum += loss;
          batches++;
          correct += right;
          clips += batch.labels.shape[0];
          o.onStep?.({ epoch, step, loss, lr });
        } finally {
          batch.input.dispose();
          batch.labels.dispose();
        }
      }
      if (batches === 0) throw new Error(`fine-tuning epoch ${epoch}: the source gave no training batch`);
      const e = { epoch, lr, loss: lossSum / batches, trainAccuracy: correct / clips, clips, seconds: (performance.now() - epochStarted) / 1000 };
      epochs.push(e);
      o.log?.(`finetune: epoch ${epoch + 1}/${o.epochs} lr ${lr.toExponential(1)} loss ${e.loss.toFixed(3)} train acc ${(100 * e.trainAccuracy).toFixed(1)}% (${e.seconds.toFixed(0)} s)`);
    }
  } finally {
    optimizer.dispose();
    for (const p of params) {
      p.setGrad(null);
      p.requiresGrad_(false);
    }
  }
  const test = await scoreTestClips(model, source);
  return { ...test, epochs, milestones, seconds: (performance.now() - started) / 1000 };
}

/** Clip and video accuracy of `model` in evaluation mode (batch-norm running statistics, no dropout). */
export async function scoreTestClips(
  model: FinetuneClassifier,
  source: FinetuneBatchSource,
): Promise<Pick<FinetuneResult, 'clipAccuracy' | 'videoAccuracy' | 'testSamples' | 'testClips' | 'predictions'>> {
  model.eval();
  const labels = source.testLabels;
  const numClasses = model.classifier.weight.shape[0];
  const sums = new Float64Array(labels.length * numClasses);
  const counts = new Int32Array(labels.length);
  let clipCorrect = 0;
  let clips = 0;
  for await (const batch of source.testBatches()) {
    try {
      const p = T.noGrad(() => T.tidy(() => T.functional.softmax(model.forward(batch.input), 1).toFloat32Array()));
      batch.samples.forEach((s, row) => {
        if (!(s >= 0 && s < labels.length)) throw new Error(`fine-tuning test batch: sample ${s} outside 0..${labels.length - 1}`);
        let best = 0;
        for (let k = 0; k < numClasses; k++) {
          sums[s * numClasses + k] += p[row * numClasses + k];
          if (p[row * numClasses + k] > p[row * numClasses + best]) best = k;
        }
        counts[s]++;
        if (best === labels[s]) clipCorrect++;
        clips++;
      });
    } finally {
      batch.input.dispose();
    }
  }
  const missing = [...counts].findIndex((c) => c === 0);
  if (missing >= 0) throw new Error(`fine-tuning: test sample ${missing} has no clip (it failed to decode?)`);
  const predictions = labels.map((_, s) => {
    let best = 0;
    for (let k = 1; k < numClasses; k++) if (sums[s * numClasses + k] > sums[s * numClasses + best]) best = k;
    return best;
  });
  const videoCorrect = predictions.filter((p, s) => p === labels[s]).length;
  return { clipAccuracy: clipCorrect / clips, videoAccuracy: videoCorrect / labels.length, testSamples: labels.length, testClips: clips, predictions };
}
