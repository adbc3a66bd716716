// NCE against a memory bank (Wu et al. 2018, as used by AVID): with e = exp(x·m/τ) and the normaliser Z
// estimated on the first batch as the mean of e over the negatives and fixed thereafter,
//   P(D=1 | positive) = e⁺ / (e⁺ + K·Z),   P(D=0 | negative j) = K·Z / (e⁻ⱼ + K·Z),
//   L = −log P(D=1 | positive) − Σⱼ log P(D=0 | negative j), averaged over the batch.
// Computed in log space: −log P(D=1) = softplus(log KZ − s⁺/τ), −log P(D=0) = softplus(s⁻/τ − log KZ).
import { Tensor, tidy, noGrad } from '../tensor/index.js';

/**
 * When Z is estimated. 'first-batch' (the reference's): once, from the first batch's negatives, then fixed.
 * 'every-batch': from each batch's own negatives (detached, like the reference's estimate). A Z fixed while the
 * memory bank still holds its random initial rows can sit far below the scores the bank gives once it holds
 * the encoder's embeddings: on a small world a within-modal term then saturates (every negative in the linear
 * part of the softplus, the positive's term at zero) and pushes every anchor the same way, and the embeddings
 * collapse (docs/experiments/self-avid-health.md). Re-estimating Z each batch keeps the terms in range.
 */
export type NormaliserEstimate = 'first-batch' | 'every-batch';

export class NCENormaliser {
  /** log Z: null until the first batch sets it; with 'every-batch', the last batch's value. */
  logZ: number | null = null;

  constructor(readonly estimate: NormaliserEstimate = 'first-batch') {}

  /**
   * Sets log Z from the batch's negative scores (already divided by τ) when it is not fixed yet (or at every
   * batch with 'every-batch') and returns it. In a data-parallel run `meanOverRanks` averages the mean of e
   * over the ranks' equal shares of the batch.
   */
  resolve(negativeLogits: Tensor, meanOverRanks?: (value: number) => number): number {
    if (this.logZ === null || this.estimate === 'every-batch') {
      const localLogMean = noGrad(() => tidy(() => negativeLogits.logsumexp([0, 1]).item() - Math.log(negativeLogits.numel)));
      this.logZ = meanOverRanks ? Math.log(meanOverRanks(Math.exp(localLogMean))) : localLogMean;
    }
    return this.logZ;
  }
}

/**
 * x: (B, D) anchors (with grad); positive: (B, D) memory rows; negatives: (B, K, D) memory rows.
 * Returns the mean NCE loss.
 */
export function nceLoss(x: Tensor, positive: Tensor, negatives: Tensor, tau: number, z: NCENormaliser, meanOverRanks?: (value: number) => number): Tensor {
  return tidy(() => {
    const k = negatives.size(1);
    const positiveLogits = x.mul(positive).sum(1).div(tau);
    const negativeLogits = negatives.bmm(x.unsqueeze(2)).squeeze(2).div(tau);
    const logKZ = Math.log(k) + z.resolve(negativeLogits, meanOverRanks);
    const positiveTerm = positiveLogits.neg().add(logKZ).softplus();
    const negativeTerm = negativeLogits.sub(logKZ).softplus().sum(1);
    return positiveTerm.add(negativeTerm).mean();
  });
}
