// Cross-Modal Agreement (Morgado et al., §4): Cross-AVID plus within-modal positive discrimination (wMPD),
// whose positives are the instances that agree with the anchor in both spaces (mined from the memory banks)
// and whose negatives come from the complement of the positives:
//   L_wMPD = (1/Kp) Σₚ [NCE(vᵢ; v̄ₚ, 𝒩′ᵢ) + NCE(aᵢ; āₚ, 𝒩′ᵢ)],   L_CMA = L_Cross-AVID + λ·L_wMPD.
// The cross-modal term's negatives also avoid the anchor's positives (paper: "not overlapping with
// positives"; the reference draws them from the complement of the positive set).
import { Tensor, tidy, keep, noGrad, cat, Generator, randint } from '../tensor/index.js';
import { hash32 } from '../data/rng.js';
import { AvidObjective, shardOf, combineLogZ, AVID_NEGATIVES_STREAM, type AvidOptions } from './avid.js';
import { NCENormaliser } from './nce.js';
import { minePositives, type AgreementKind, type MiningSplit } from './cma-mining.js';
import { sampleOutside, shardedDraw } from './negatives.js';
import type { MemoryBank } from './memory-bank.js';
import type { EmbeddedBatch, ObjectiveOutput, ObjectiveState, StepContext } from './objective.js';

export interface CmaOptions extends Omit<AvidOptions, 'variant'> {
  /** Positives used per anchor and step (Kp). */
  positives: number;
  /** Positive candidates mined per instance; Kp are drawn from them each step (defaults to Kp). */
  candidates?: number;
  /** Negatives for wMPD (Kn), from the complement of the candidates. */
  wmpdNegatives: number;
  lambda: number;
  agreement: AgreementKind;
  /** Re-mine every R epochs (counted from the first CMA epoch). */
  remineEveryEpochs: number;
  blockSize?: number;
  onMineProgress?: (done: number, total: number) => void;
  /** Data-parallel runs: each rank mines a share of the rows (see MineOptions.split). */
  miningSplit?: MiningSplit;
}

export class CmaObjective extends AvidObjective {
  override readonly name = 'cma';
  /** wMPD's normalisers: with a shared Z, the cross-modal terms' own (as the reference's one criterion). */
  readonly wmpdNormalisers = this.sharedNormaliser
    ? { video: this.normalisers.v2a, audio: this.normalisers.v2a }
    : { video: new NCENormaliser(this.options.normaliserEstimate), audio: new NCENormaliser(this.options.normaliserEstimate) };
  /** (N, candidates) int64 mined positives, or null before the first mining. */
  positives: Tensor | null = null;
  minedAtEpoch: number | null = null;
  private readonly candidates: number;
  private readonly wmpdNegatives: number;
  /** Cross-modal negatives per anchor, drawn outside the anchor and its candidates. */
  private readonly crossNegatives: number;

  constructor(readonly cma: CmaOptions) {
    super({ ...cma, variant: 'cross' });
    this.candidates = Math.min(cma.candidates ?? cma.positives, cma.numInstances - 2);
    this.wmpdNegatives = Math.min(cma.wmpdNegatives, cma.numInstances - this.candidates - 1);
    this.crossNegatives = Math.min(this.negatives, cma.numInstances - this.candidates - 1);
  }

  /**
   * The cross-modal terms' negatives: uniform over the instances outside the anchor and all of its mined
   * candidates (not only the Kp used this step), as the reference draws from the complement of the set.
   */
  protected override negativesFor(index: Tensor, ctx: StepContext, stream: string): Tensor {
    if (!this.positives) throw new Error('CMA: positives have not been mined (beforeEpoch was not called)');
    return tidy(() => {
      const forbidden = cat([index.unsqueeze(1), this.positives!.indexSelect(0, index)], 1);
      return sampleOutside(forbidden, this.cma.numInstances, this.crossNegatives, new Generator(hash32(ctx.seed, ctx.step, stream)), shardOf(ctx));
    });
  }

  /** This step's cross-modal negatives (B, K), as the loss draws them. */
  crossModalNegatives(index: Tensor, ctx: StepContext): Tensor {
    return this.negativesFor(index, ctx, AVID_NEGATIVES_STREAM);
  }

  /** Mines positive sets from the current memory banks. */
  mine(epoch: number): void {
    const mined = minePositives(this.videoBank.bank, this.audioBank.bank, { k: this.candidates, kind: this.cma.agreement, blockSize: this.cma.blockSize, onProgress: this.cma.onMineProgress, split: this.cma.miningSplit });
    this.positives?.dispose();
    this.positives = keep(mined);
    this.minedAtEpoch = epoch;
  }

  beforeEpoch(epoch: number): void {
    if (this.positives === null || this.minedAtEpoch === null || epoch - this.minedAtEpoch >= this.cma.remineEveryEpochs) this.mine(epoch);
  }

  /** (B, Kp) positives for this step: all candidates, or Kp of them drawn without replacement. */
  private stepPositives(index: Tensor, ctx: StepContext): { used: Tensor; candidates: Tensor } {
    return tidy(() => {
      const candidates = this.positives!.indexSelect(0, index);
      if (this.cma.positives >= this.candidates) return { used: candidates, candidates };
      const g = new Generator(hash32(ctx.seed, ctx.step, 'cma-positives'));
      const keys = shardedDraw(index.size(0), shardOf(ctx), (rows) => randint(0, 1 << 30, [rows, this.candidates], { generator: g }));
      const order = keys.argsort(1).narrow(1, 0, this.cma.positives);
      return { used: candidates.gather(1, order), candidates };
    });
  }

  /**
   * wMPD's negatives (B, Kn): uniform outside the anchor and its candidates, a draw of their own. The reference
   * takes the first Kn of the cross-modal draw instead, from the same set (it does not exclude the anchor itself,
   * a 1-in-N chance per draw); the parity test (test/ssl/reference-criterions.test.ts) overrides this to do so.
   */
  protected wmpdNegativesFor(index: Tensor, candidates: Tensor, ctx: StepContext): Tensor {
    return tidy(() => {
      const forbidden = cat([index.unsqueeze(1), candidates], 1);
      return sampleOutside(forbidden, this.cma.numInstances, this.wmpdNegatives, new Generator(hash32(ctx.seed, ctx.step, 'wmpd-negatives')), shardOf(ctx));
    });
  }

  /** wMPD NCE for one modality: each anchor's positives against negatives outside its candidate set. */
  private wmpd(x: Tensor, bank: MemoryBank, positives: Tensor, negatives: Tensor, z: NCENormaliser, ctx: StepContext): Tensor {
    return tidy(() => {
      const positiveLogits = bank.rows(positives).bmm(x.unsqueeze(2)).squeeze(2).div(this.tau); // (B, Kp)
      const negativeLogits = bank.rows(negatives).bmm(x.unsqueeze(2)).squeeze(2).div(this.tau); // (B, Kn)
      const logKZ = Math.log(negatives.size(1)) + z.resolve(negativeLogits, ctx.allReduceMean?.bind(ctx));
      // The negatives are shared by an anchor's positives, so their term is the same for each positive.
      const positiveTerm = positiveLogits.neg().add(logKZ).softplus().mean(1);
      const negativeTerm = negativeLogits.sub(logKZ).softplus().sum(1);
      return positiveTerm.add(negativeTerm).mean();
    });
  }

  override loss(batch: EmbeddedBatch, ctx: StepContext): ObjectiveOutput {
    if (!this.positives) throw new Error('CMA: positives have not been mined (beforeEpoch was not called)');
    return tidy(() => {
      const cross = super.loss(batch, ctx);
      const { used, candidates } = this.stepPositives(batch.index, ctx);
      const negatives = this.wmpdNegativesFor(batch.index, candidates, ctx);
      const wv = this.wmpd(batch.video, this.videoBank, used, negatives, this.wmpdNormalisers.video, ctx);
      const wa = this.wmpd(batch.audio, this.audioBank, used, negatives, this.wmpdNormalisers.audio, ctx);
      const loss = cross.loss.add(wv.add(wa).mul(this.cma.lambda));
      return { loss, terms: { ...cross.terms, wmpd_v: wv.item(), wmpd_a: wa.item() } };
    });
  }

  override state(): ObjectiveState {
    const base = super.state();
    if (this.positives) base.tensors.set('cma.positives', this.positives);
    base.scalars.wmpdLogZ = { video: this.wmpdNormalisers.video.logZ, audio: this.wmpdNormalisers.audio.logZ };
    base.scalars.minedAtEpoch = this.minedAtEpoch;
    return base;
  }

  override loadState(state: ObjectiveState): void {
    super.loadState(state);
    const positives = state.tensors.get('cma.positives');
    this.positives?.dispose();
    this.positives = positives ? keep(noGrad(() => positives.clone())) : null;
    const z = (state.scalars.wmpdLogZ ?? {}) as { video?: number | null; audio?: number | null };
    if (this.sharedNormaliser) {
      // One Z from every value the checkpoint holds (a per-term checkpoint: the mean of its Zs).
      this.normalisers.v2a.logZ = combineLogZ([...Object.values((state.scalars.logZ ?? {}) as Record<string, number | null>), z.video, z.audio]);
    } else {
      this.wmpdNormalisers.video.logZ = z.video ?? null;
      this.wmpdNormalisers.audio.logZ = z.audio ?? null;
    }
    this.minedAtEpoch = (state.scalars.minedAtEpoch as number | null | undefined) ?? null;
  }

  override dispose(): void {
    super.dispose();
    this.positives?.dispose();
  }
}
