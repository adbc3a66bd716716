// Cross-modal agreement mining (Morgado et al., §4): for each instance i, the instances j that agree with it
// in both spaces, ρᵢⱼ = min(vᵢ·vⱼ, aᵢ·aⱼ), over the memory banks. Computed in row blocks so that the N×N
// matrix never exists; only (block × N) scores live at a time. In a data-parallel run each rank mines an equal
// share of the rows and the shares are all-gathered: every rank ends with the same table, a W-th of the work.
import { Tensor, tidy, cat, keep, noGrad, arange, zeros } from '../tensor/index.js';

/** How two modalities' similarities combine: CMA's agreement (min), their union (max), or one modality. */
export type AgreementKind = 'agreement' | 'union' | 'video' | 'audio';

/**
 * How each modality's similarities are put on a common scale before agreement/union combines them, per anchor
 * row over the other instances: 'none' (raw cosines, the paper's formula), 'zscore' ((s − row mean) / row std)
 * or 'rank' (the percentile of s within the row, 0 = least similar, 1 = most). Raw min() is ruled by whichever
 * bank has the lower similarities (e.g. a collapsed video bank's cosines all sit high), so it degenerates to
 * that one modality; on a common scale both modalities must agree. One modality alone is unchanged by either
 * (both are increasing in s within a row).
 */
export type ScoreNormalisation = 'none' | 'zscore' | 'rank';

/** Data-parallel mining: this rank's place and the all-gather that joins the ranks' rows (rank order). */
export interface MiningSplit {
  rank: number;
  worldSize: number;
  allGather(rows: Tensor): Tensor;
}

export interface MineOptions {
  k: number;
  kind?: AgreementKind;
  blockSize?: number;
  /** Per-row scale of each modality's similarities before they are combined (default 'none'). */
  normalisation?: ScoreNormalisation;
  onProgress?: (done: number, total: number) => void;
  /** Mine only rows [⌊N·r/W⌋, ⌊N·(r+1)/W⌋) here and all-gather the rest (every rank must call it). */
  split?: MiningSplit;
}

/** (N, k) int64 indices of each instance's top-k partners by the chosen score, excluding itself. */
export function minePositives(video: Tensor, audio: Tensor, o: MineOptions): Tensor {
  const n = video.size(0);
  const kind = o.kind ?? 'agreement';
  const blockSize = o.blockSize ?? 1024;
  if (o.k >= n) throw new Error(`cannot mine ${o.k} positives among ${n} instances`);
  const split = o.split && o.split.worldSize > 1 ? o.split : null;
  const first = split ? Math.floor((n * split.rank) / split.worldSize) : 0;
  const end = split ? Math.floor((n * (split.rank + 1)) / split.worldSize) : n;
  const blocks: Tensor[] = [];
  noGrad(() => {
    for (let start = first; start < end; start += blockSize) {
      const rows = Math.min(blockSize, end - start);
      const top = tidy(() => {
        const score = blockScores(video, audio, start, rows, kind, o.normalisation);
        // The instance itself is never its own positive: its column gets −∞.
        const self = arange(start, start + rows, 1, { device: video.device }).unsqueeze(1);
        // Positives are an index table: kept on the CPU with the indices they are looked up by.
        return score.scatter_(1, self, -Infinity).topk(o.k, 1, true, true).indices.cpu();
      });
      blocks.push(keep(top));
      o.onProgress?.(split ? start + rows - first : start + rows, n);
    }
  });
  const out = blocks.length ? cat(blocks, 0) : zeros([0, o.k], { dtype: 'int64' });
  blocks.forEach((b) => b.dispose());
  if (!split) return out;
  const all = split.allGather(out);
  out.dispose();
  o.onProgress?.(n, n);
  return all;
}

/**
 * Scores of rows [start, start+rows) against all instances, (rows, N). With a normalisation the anchor's own
 * column holds no meaningful score (the caller excludes it); a block holds whole rows, so the row statistics
 * need nothing outside it.
 */
export function blockScores(video: Tensor, audio: Tensor, start: number, rows: number, kind: AgreementKind, normalisation: ScoreNormalisation = 'none'): Tensor {
  return tidy(() => {
    const scale = (s: Tensor) => (normalisation === 'none' ? s : normaliseRows(s, start, normalisation));
    const sv = kind === 'audio' ? null : video.narrow(0, start, rows).matmul(video.T);
    const sa = kind === 'video' ? null : audio.narrow(0, start, rows).matmul(audio.T);
    if (kind === 'video') return sv!;
    if (kind === 'audio') return sa!;
    return kind === 'agreement' ? scale(sv!).minimum_(scale(sa!)) : scale(sv!).maximum_(scale(sa!));
  });
}

/** Row-wise z-scores or rank percentiles of (rows, N) similarities of anchors start.., over the other N − 1 columns. */
function normaliseRows(s: Tensor, start: number, how: 'zscore' | 'rank'): Tensor {
  const [rows, n] = s.shape;
  const self = arange(start, start + rows, 1, { device: s.device }).unsqueeze(1);
  if (how === 'rank') {
    // The anchor sorts first (−∞) and takes rank 0; the others take ranks 1..N−1, mapped onto [0, 1].
    const order = s.scatter(1, self, -Infinity).argsort(1);
    const ranks = arange(-1, n - 1, 1, { dtype: s.dtype, device: s.device }).div_(Math.max(n - 2, 1)).unsqueeze(0).expand([rows, n]);
    return s.scatter(1, order, ranks);
  }
  // Mean and (population) variance over the row without the anchor's column; centred first, for precision.
  const own = s.gather(1, self);
  const mean = s.sum(1, true).sub_(own).div_(n - 1);
  const centred = s.sub(mean);
  const ownCentred = own.sub(mean);
  const variance = centred.square().sum(1, true).sub_(ownCentred.square()).div_(n - 1);
  return centred.div_(variance.clamp_(1e-12).sqrt_());
}

/** Precision@k of positive sets against labels: the mean share of each instance's positives sharing its label. */
export function positivePrecision(positives: Tensor, labels: Int32Array | number[]): number {
  const ids = positives.toArray();
  const k = positives.size(1);
  let hits = 0;
  for (let i = 0; i < positives.size(0); i++) {
    for (let j = 0; j < k; j++) if (labels[ids[i * k + j]] === labels[i]) hits++;
  }
  return hits / (positives.size(0) * k);
}
