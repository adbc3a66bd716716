// Cross-modal retrieval on held-out clips: the i-th video embedding matches the i-th audio embedding.
// video→audio ranks, for each video, its own audio among all audios by cosine similarity (and audio→video
// the other way round); reported as recall@K and median rank.
import * as T from '../tensor/index.js';
import { embeddingTensor, assertUnitRows, type EmbeddingInput } from './embeddings.js';

export interface RetrievalScores {
  /** recall[K] = share of queries whose match ranks within the top K. */
  recall: Record<number, number>;
  medianRank: number;
  meanRank: number;
  /** Rank (1 = best) of each query's match. */
  ranks: Int32Array;
}

export interface RetrievalResult {
  n: number;
  videoToAudio: RetrievalScores;
  audioToVideo: RetrievalScores;
}

export interface RetrievalOptions {
  /** K values of recall@K (default 1, 5, 10). */
  ks?: number[];
  /** L2-normalise rows first; otherwise rows must already have unit norm (default false). */
  normalize?: boolean;
}

/**
 * Rank of the diagonal entry in each row of a square similarity matrix, counting ties AGAINST the query:
 * rank = #{j : s_ij ≥ s_ii}. With optimistic ties, collapsed embeddings (all equal) would score a perfect
 * recall@1; with these, they score the worst rank, as they should.
 */
export function diagonalRanks(similarity: T.Tensor): Int32Array {
  const [n, m] = similarity.shape;
  if (n !== m) throw new Error(`diagonalRanks: expected a square matrix, got [${similarity.shape.join(', ')}]`);
  return T.tidy(() => {
    const diagonal = similarity.flatten().indexSelect(0, T.arange(n).mul(n + 1)).unsqueeze(1);
    const ranks = similarity.ge(diagonal).sum(1, false, 'int32');
    return Int32Array.from(ranks.data() as Int32Array);
  });
}

export function scoresFromRanks(ranks: Int32Array, ks: number[]): RetrievalScores {
  const n = ranks.length;
  if (n === 0) throw new Error('retrieval: no queries');
  const sorted = Int32Array.from(ranks).sort();
  const medianRank = n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  const recall: Record<number, number> = {};
  for (const k of ks) recall[k] = ranks.filter((r) => r <= k).length / n;
  return { recall, medianRank, meanRank: ranks.reduce((a, b) => a + b, 0) / n, ranks };
}

export function crossModalRetrieval(video: EmbeddingInput, audio: EmbeddingInput, options: RetrievalOptions = {}): RetrievalResult {
  const ks = options.ks ?? [1, 5, 10];
  return T.tidy(() => {
    let v = embeddingTensor(video, 'retrieval video embeddings');
    let a = embeddingTensor(audio, 'retrieval audio embeddings');
    if (v.shape[0] !== a.shape[0]) throw new Error(`retrieval: ${v.shape[0]} video embeddings but ${a.shape[0]} audio embeddings (the i-th of each must match)`);
    if (v.shape[1] !== a.shape[1]) throw new Error(`retrieval: video embeddings have ${v.shape[1]} dimensions, audio ${a.shape[1]}`);
    if (options.normalize) {
      v = T.functional.normalize(v, 2, 1);
      a = T.functional.normalize(a, 2, 1);
    } else {
      assertUnitRows(v, 'retrieval video embeddings');
      assertUnitRows(a, 'retrieval audio embeddings');
    }
    const similarity = v.matmul(a.T); // [i, j] = video i · audio j
    return {
      n: v.shape[0],
      videoToAudio: scoresFromRanks(diagonalRanks(similarity), ks),
      audioToVideo: scoresFromRanks(diagonalRanks(similarity.T.contiguous()), ks),
    };
  });
}
