// Audio-Visual Instance Discrimination (Morgado et al., §3): NCE of each embedding against memory banks of
// slow-moving embeddings. Self-AVID: NCE(v; v̄) + NCE(a; ā). Cross-AVID: NCE(v; ā) + NCE(a; v̄).
// Joint: both. The coefficients weigh the cross- and within-modal terms.
import { Tensor, tidy, Generator, noGrad } from '../tensor/index.js';
import { hash32 } from '../data/rng.js';
import { MemoryBank } from './memory-bank.js';
import { NCENormaliser, nceLoss, type NormaliserEstimate } from './nce.js';
import { sampleNegatives, type Shard } from './negatives.js';

/** The rows of per-step random draws that belong to this process. */
export function shardOf(ctx: StepContext): Shard | undefined {
  return ctx.worldSize && ctx.worldSize > 1 ? { rank: ctx.rank ?? 0, worldSize: ctx.worldSize } : undefined;
}
import type { EmbeddedBatch, Objective, ObjectiveOutput, ObjectiveState, StepContext } from './objective.js';

export type AvidVariant = 'self' | 'cross' | 'joint';

/** The random stream of the memory-bank negatives (part of the seed of each step's draw). */
export const AVID_NEGATIVES_STREAM = 'avid-negatives';

export interface AvidOptions {
  numInstances: number;
  dim: number;
  variant: AvidVariant;
  tau?: number;
  negatives?: number;
  memoryMomentum?: number;
  crossWeight?: number;
  selfWeight?: number;
  /**
   * One normalisation constant Z for every NCE term (default true), estimated from the first term's
   * negatives on the first batch: the reference code has one NCECriterion whose Z, set by the first call
   * (v2a for Cross/Joint, v2v for Self), serves every term after it. false: one Z per term.
   */
  sharedNormaliser?: boolean;
  /** When Z is estimated (default 'first-batch', as the reference; see NormaliserEstimate). */
  normaliserEstimate?: NormaliserEstimate;
  seed?: number;
}

export type NormaliserTerm = 'v2a' | 'a2v' | 'v2v' | 'a2a';

/** The four terms' normalisers: one object shared by all, or one each. */
export function makeNormalisers(shared: boolean, estimate: NormaliserEstimate = 'first-batch'): Record<NormaliserTerm, NCENormaliser> {
  if (shared) {
    const z = new NCENormaliser(estimate);
    return { v2a: z, a2v: z, v2v: z, a2a: z };
  }
  return { v2a: new NCENormaliser(estimate), a2v: new NCENormaliser(estimate), v2v: new NCENormaliser(estimate), a2a: new NCENormaliser(estimate) };
}

/**
 * One log Z from a checkpoint's per-term values (null: not yet set): the value when they agree; otherwise,
 * as the reference does when CMA restores an AVID checkpoint's Zs, the mean of the Zs (not of the logs).
 */
export function combineLogZ(values: (number | null | undefined)[]): number | null {
  const set = values.filter((v): v is number => typeof v === 'number');
  if (set.length === 0) return null;
  if (set.every((v) => v === set[0])) return set[0];
  return Math.log(set.reduce((sum, v) => sum + Math.exp(v), 0) / set.length);
}

export class AvidObjective implements Objective {
  readonly name: string;
  readonly videoBank: MemoryBank;
  readonly audioBank: MemoryBank;
  readonly normalisers: Record<NormaliserTerm, NCENormaliser>;
  readonly sharedNormaliser: boolean;
  readonly tau: number;
  readonly negatives: number;
  readonly crossWeight: number;
  readonly selfWeight: number;

  constructor(readonly options: AvidOptions) {
    this.name = `${options.variant}-avid`;
    this.sharedNormaliser = options.sharedNormaliser ?? true;
    this.normalisers = makeNormalisers(this.sharedNormaliser, options.normaliserEstimate);
    const seed = options.seed ?? 0;
    this.videoBank = new MemoryBank(options.numInstances, options.dim, options.memoryMomentum ?? 0.5, hash32(seed, 'video-bank'));
    this.audioBank = new MemoryBank(options.numInstances, options.dim, options.memoryMomentum ?? 0.5, hash32(seed, 'audio-bank'));
    this.tau = options.tau ?? 0.07;
    // Never more negatives than other instances exist (small datasets).
    this.negatives = Math.min(options.negatives ?? 1024, options.numInstances - 1);
    this.crossWeight = options.variant === 'self' ? 0 : (options.crossWeight ?? 1);
    this.selfWeight = options.variant === 'cross' ? 0 : (options.selfWeight ?? 1);
  }

  /** The step's negative draw: a function of (seed, step) only, so a resumed run draws the same. */
  protected negativesFor(index: Tensor, ctx: StepContext, stream: string): Tensor {
    const generator = new Generator(hash32(ctx.seed, ctx.step, stream));
    return sampleNegatives(index, this.options.numInstances, this.negatives, generator, shardOf(ctx));
  }

  /** NCE of `x` against `bank`, with the positive at each anchor's own row. */
  protected nceAgainst(x: Tensor, bank: MemoryBank, index: Tensor, negatives: Tensor, z: NCENormaliser, ctx: StepContext): Tensor {
    return tidy(() => nceLoss(x, bank.rows(index), bank.rows(negatives), this.tau, z, ctx.allReduceMean?.bind(ctx)));
  }

  loss(batch: EmbeddedBatch, ctx: StepContext): ObjectiveOutput {
    return tidy(() => {
      const negatives = this.negativesFor(batch.index, ctx, AVID_NEGATIVES_STREAM);
      const terms: Record<string, Tensor> = {};
      if (this.crossWeight > 0) {
        terms.v2a = this.nceAgainst(batch.video, this.audioBank, batch.index, negatives, this.normalisers.v2a, ctx);
        terms.a2v = this.nceAgainst(batch.audio, this.videoBank, batch.index, negatives, this.normalisers.a2v, ctx);
      }
      if (this.selfWeight > 0) {
        terms.v2v = this.nceAgainst(batch.video, this.videoBank, batch.index, negatives, this.normalisers.v2v, ctx);
        terms.a2a = this.nceAgainst(batch.audio, this.audioBank, batch.index, negatives, this.normalisers.a2a, ctx);
      }
      let loss: Tensor | null = null;
      for (const [name, term] of Object.entries(terms)) {
        const weighted = term.mul(name === 'v2a' || name === 'a2v' ? this.crossWeight : this.selfWeight);
        loss = loss ? loss.add(weighted) : weighted;
      }
      return { loss: loss!, terms: Object.fromEntries(Object.entries(terms).map(([k, t]) => [k, t.item()])) };
    });
  }

  afterStep(batch: EmbeddedBatch, ctx: StepContext): void {
    noGrad(() =>
      tidy(() => {
        const index = ctx.gather(batch.index);
        this.videoBank.update(index, ctx.gather(batch.video));
        this.audioBank.update(index, ctx.gather(batch.audio));
      }),
    );
  }

  state(): ObjectiveState {
    return {
      tensors: new Map([
        ['memory.video', this.videoBank.bank],
        ['memory.audio', this.audioBank.bank],
      ]),
      scalars: { logZ: Object.fromEntries(Object.entries(this.normalisers).map(([k, z]) => [k, z.logZ])) },
    };
  }

  loadState(state: ObjectiveState): void {
    for (const [key, bank] of [
      ['memory.video', this.videoBank],
      ['memory.audio', this.audioBank],
    ] as const) {
      const value = state.tensors.get(key);
      if (!value) throw new Error(`checkpoint has no '${key}' (was it written by an AVID run?)`);
      if (value.shape.join() !== bank.bank.shape.join()) {
        throw new Error(`checkpoint '${key}' is [${value.shape}] but this run's data needs [${bank.bank.shape}]: same manifest?`);
      }
      noGrad(() => bank.bank.copy_(value));
    }
    const logZ = (state.scalars.logZ ?? {}) as Record<string, number | null>;
    if (this.sharedNormaliser) this.normalisers.v2a.logZ = combineLogZ(Object.values(logZ));
    else for (const [k, z] of Object.entries(this.normalisers)) z.logZ = logZ[k] ?? null;
  }

  dispose(): void {
    this.videoBank.dispose();
    this.audioBank.dispose();
  }
}
