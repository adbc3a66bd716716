// In-batch cross-modal InfoNCE (as in "Watching Too Much Television is Good", and CLIP): each clip's video
// embedding must pick out its own audio among the batch's audio embeddings, and each audio its own video:
//   L = CE(V·Aᵀ/τ, diag) + CE(A·Vᵀ/τ, diag),
// both directions summed (as Cross-AVID sums NCE(v; ā) and NCE(a; v̄)), each a mean over the anchors.
// Unlike the memory-bank objectives, the negatives are the other clips of the batch, so the batch's make-up
// (the long-form sampler's k clips from one video within a window w) is what the loss contrasts against.
// Optionally K memory-bank rows per anchor are added as further negatives (batch + bank).
//
// Data-parallel runs contrast against the global batch: every rank's embeddings are gathered through a
// differentiable all-reduce, so the gradient equals that of one process holding the whole batch.
import { Tensor, tidy, keep, noGrad, cat, zeros, arange, scalar, tensor, Generator, functional as F } from '../tensor/index.js';
import { hash32 } from '../data/rng.js';
import { allReduceWithGrad } from '../distributed/collectives.js';
import { MemoryBank } from './memory-bank.js';
import { sampleNegatives } from './negatives.js';
import { shardOf } from './avid.js';
import type { EmbeddedBatch, Objective, ObjectiveOutput, ObjectiveState, StepContext } from './objective.js';

export interface InBatchOptions {
  /** The temperature τ: fixed, or the starting value of a learned one. */
  tau?: number;
  /** Learn τ (as log τ, an objective parameter the optimizer updates with the model's). */
  learnTemperature?: boolean;
  /** Memory-bank negatives added to the batch's per anchor (0: batch negatives only). */
  bankNegatives?: number;
  /** Needed for bank negatives: the training instances and the embedding size. */
  numInstances?: number;
  dim?: number;
  memoryMomentum?: number;
  seed?: number;
}

/** The smallest learned temperature: CLIP's bound of 100 on the logit scale, against runaway sharpening. */
export const MIN_LEARNED_TAU = 0.01;

const LOG_TAU_KEY = 'in-batch.logTemperature';

export class InBatchObjective implements Objective {
  readonly name = 'in-batch';
  readonly tau: number;
  /** log τ (a leaf with grad) when τ is learned, else null. */
  readonly logTemperature: Tensor | null;
  readonly banks: { video: MemoryBank; audio: MemoryBank } | null;
  readonly bankNegatives: number;

  constructor(readonly options: InBatchOptions = {}) {
    this.tau = options.tau ?? 0.07;
    if (!(this.tau > 0)) throw new Error(`in-batch objective: tau must be positive, got ${this.tau}`);
    if (options.learnTemperature && this.tau < MIN_LEARNED_TAU) throw new Error(`in-batch objective: a learned tau starts at ${this.tau}, below its bound ${MIN_LEARNED_TAU}`);
    this.logTemperature = options.learnTemperature ? keep(scalar(Math.log(this.tau))).requiresGrad_(true) : null;
    const k = options.bankNegatives ?? 0;
    if (k > 0) {
      const { numInstances, dim } = options;
      if (!numInstances || !dim) throw new Error('in-batch objective: memory-bank negatives need numInstances and dim');
      const seed = options.seed ?? 0;
      this.banks = {
        video: new MemoryBank(numInstances, dim, options.memoryMomentum ?? 0.5, hash32(seed, 'video-bank')),
        audio: new MemoryBank(numInstances, dim, options.memoryMomentum ?? 0.5, hash32(seed, 'audio-bank')),
      };
      // Never more negatives than other instances exist (small datasets).
      this.bankNegatives = Math.min(k, numInstances - 1);
    } else {
      this.banks = null;
      this.bankNegatives = 0;
    }
  }

  parameters(): Tensor[] {
    return this.logTemperature ? [this.logTemperature] : [];
  }

  /** The temperature in force (a number; the learned one read from its parameter). */
  temperature(): number {
    return this.logTemperature ? Math.max(Math.exp(this.logTemperature.item()), MIN_LEARNED_TAU) : this.tau;
  }

  loss(batch: EmbeddedBatch, ctx: StepContext): ObjectiveOutput {
    return tidy(() => {
      const { all: audioAll, offset } = gatherWithGrad(batch.audio, ctx);
      const { all: videoAll } = gatherWithGrad(batch.video, ctx);
      const b = batch.video.size(0);
      // Each anchor's positive is its own row of the global batch.
      const target = arange(offset, offset + b, 1, { dtype: 'int64', device: batch.video.device });
      const negatives = this.banks ? this.bankNegativesFor(batch.index, ctx) : null;
      const v2a = this.direction(batch.video, audioAll, negatives && this.banks!.audio.rows(negatives), target);
      const a2v = this.direction(batch.audio, videoAll, negatives && this.banks!.video.rows(negatives), target);
      return { loss: v2a.add(a2v), terms: { v2a: v2a.item(), a2v: a2v.item(), temperature: this.temperature() } };
    });
  }

  /** This step's memory-bank negatives (B, K): a function of (seed, step), never the anchor's own instance. */
  bankNegativesFor(index: Tensor, ctx: StepContext): Tensor {
    if (!this.banks) throw new Error('in-batch objective: no memory-bank negatives configured (bankNegatives is 0)');
    return sampleNegatives(index, this.options.numInstances!, this.bankNegatives, new Generator(hash32(ctx.seed, ctx.step, 'in-batch-bank-negatives')), shardOf(ctx));
  }

  /** Cross-entropy of each anchor over the candidates (B', D) and its own bank negatives (B, K, D). */
  private direction(anchor: Tensor, candidates: Tensor, bankRows: Tensor | null, target: Tensor): Tensor {
    return tidy(() => {
      let similarities = anchor.mm(candidates.transpose(0, 1)); // (B, B')
      if (bankRows) similarities = cat([similarities, bankRows.to(null, anchor.device).bmm(anchor.unsqueeze(2)).squeeze(2)], 1);
      const logits = this.logTemperature ? similarities.mul(this.logTemperature.neg().exp().clamp(null, 1 / MIN_LEARNED_TAU)) : similarities.div(this.tau);
      return F.crossEntropy(logits, target);
    });
  }

  afterStep(batch: EmbeddedBatch, ctx: StepContext): void {
    noGrad(() =>
      tidy(() => {
        // Keep log τ where its gradient is alive: below the bound the forward clamp would cut it off.
        this.logTemperature?.clamp_(Math.log(MIN_LEARNED_TAU), null);
        if (!this.banks) return;
        const index = ctx.gather(batch.index);
        this.banks.video.update(index, ctx.gather(batch.video));
        this.banks.audio.update(index, ctx.gather(batch.audio));
      }),
    );
  }

  state(): ObjectiveState {
    const tensors = new Map<string, Tensor>();
    if (this.logTemperature) tensors.set(LOG_TAU_KEY, this.logTemperature);
    if (this.banks) {
      tensors.set('memory.video', this.banks.video.bank);
      tensors.set('memory.audio', this.banks.audio.bank);
    }
    return { tensors, scalars: {} };
  }

  loadState(state: ObjectiveState): void {
    noGrad(() => {
      // A run initialised from another objective's checkpoint has no log τ: it starts from the configured τ.
      const logTau = state.tensors.get(LOG_TAU_KEY);
      if (this.logTemperature && logTau) {
        if (logTau.numel !== 1) throw new Error(`checkpoint '${LOG_TAU_KEY}' has ${logTau.numel} elements, expected 1`);
        this.logTemperature.copy_(logTau.reshape([]));
      }
      if (!this.banks) return;
      for (const [key, bank] of [
        ['memory.video', this.banks.video],
        ['memory.audio', this.banks.audio],
      ] as const) {
        const value = state.tensors.get(key);
        if (!value) throw new Error(`checkpoint has no '${key}': the in-batch objective's bank negatives need memory banks (was it written by such a run?)`);
        if (value.shape.join() !== bank.bank.shape.join()) throw new Error(`checkpoint '${key}' is [${value.shape}] but this run's data needs [${bank.bank.shape}]: same manifest?`);
        bank.bank.copy_(value);
      }
    });
  }

  dispose(): void {
    this.logTemperature?.dispose();
    this.banks?.video.dispose();
    this.banks?.audio.dispose();
  }
}

/**
 * The global batch's rows (every rank's, in rank order) with gradients flowing back to each rank's own rows,
 * and where this rank's rows start. One process: the input itself. Ranks may hold different row counts (a
 * ragged last batch): each pads its rows with zeros to the global size at its offset, and a differentiable
 * all-reduce sums the padded copies; its backward hands each rank the summed gradient of its rows.
 */
export function gatherWithGrad(local: Tensor, ctx: StepContext): { all: Tensor; offset: number } {
  if (!ctx.worldSize || ctx.worldSize <= 1) return { all: local, offset: 0 };
  return tidy(() => {
    const rows = local.size(0);
    const sizes = noGrad(() => ctx.gather(tensor(BigInt64Array.from([BigInt(rows)]), [1])).toArray().map(Number));
    const rank = ctx.rank ?? 0;
    const offset = sizes.slice(0, rank).reduce((a, b) => a + b, 0);
    const total = sizes.reduce((a, b) => a + b, 0);
    const pad = (n: number) => zeros([n, ...local.shape.slice(1)], { dtype: local.dtype, device: local.device });
    const all = allReduceWithGrad(cat([pad(offset), local, pad(total - offset - rows)], 0));
    return { all, offset };
  });
}
