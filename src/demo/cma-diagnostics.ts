// CMA diagnostics on memory banks: precision@K of the positive sets of each agreement kind against labels
// (is agreement more precise than within-modal expansion?), the collapse measure (mean inner product of
// random pairs), and example anchors with their agreed positives and the look-alikes agreement rejected.
import * as T from '../tensor/index.js';
import { minePositives, positivePrecision, type AgreementKind } from '../ssl/cma-mining.js';
import { meanRandomPairSimilarity } from '../ssl/memory-bank.js';
import { loadCheckpoint, disposeContents } from '../io/checkpoint.js';

export interface Banks {
  video: T.Tensor;
  audio: T.Tensor;
}

/** The memory banks stored in a checkpoint (caller disposes). */
export function banksFromCheckpoint(file: string): Banks {
  const contents = loadCheckpoint(file);
  const video = contents.groups.objective?.get('memory.video');
  const audio = contents.groups.objective?.get('memory.audio');
  if (!video || !audio) {
    disposeContents(contents);
    throw new Error(`${file} holds no memory banks (not an AVID/CMA checkpoint)`);
  }
  contents.groups.objective!.delete('memory.video');
  contents.groups.objective!.delete('memory.audio');
  disposeContents(contents);
  return { video, audio };
}

export function precisionTable(banks: Banks, labels: number[], k: number): Record<AgreementKind, number> {
  const out = {} as Record<AgreementKind, number>;
  for (const kind of ['agreement', 'union', 'video', 'audio'] as const) {
    const positives = minePositives(banks.video, banks.audio, { k, kind });
    out[kind] = positivePrecision(positives, labels);
    positives.dispose();
  }
  return out;
}

/** Mean inner product of random pairs of distinct rows of each bank. */
export function collapse(banks: Banks): { video: number; audio: number } {
  return { video: meanRandomPairSimilarity(banks.video), audio: meanRandomPairSimilarity(banks.audio) };
}

export interface AnchorExample {
  anchor: number;
  positives: { index: number; videoSim: number; audioSim: number }[];
  rejected: { index: number; videoSim: number; audioSim: number }[];
}

/**
 * For an anchor: its top-k agreement positives, and the instances most similar in one modality that
 * agreement did not keep (the look-alikes and sound-alikes it rejected).
 */
export function anchorExample(banks: Banks, anchor: number, k: number): AnchorExample {
  return T.tidy(() => {
    const sv = banks.video.narrow(0, anchor, 1).matmul(banks.video.T).squeeze(0);
    const sa = banks.audio.narrow(0, anchor, 1).matmul(banks.audio.T).squeeze(0);
    const vs = sv.toArray();
    const as = sa.toArray();
    const others = vs.map((_, j) => j).filter((j) => j !== anchor);
    const byAgreement = [...others].sort((x, y) => Math.min(vs[y], as[y]) - Math.min(vs[x], as[x]));
    const kept = new Set(byAgreement.slice(0, k));
    const byVideo = [...others].sort((x, y) => vs[y] - vs[x]).filter((j) => !kept.has(j));
    const byAudio = [...others].sort((x, y) => as[y] - as[x]).filter((j) => !kept.has(j));
    const half = Math.ceil(k / 2);
    const lookAlikes = byVideo.slice(0, half);
    const rejected = [...lookAlikes, ...byAudio.filter((j) => !lookAlikes.includes(j)).slice(0, k - half)];
    const row = (j: number) => ({ index: j, videoSim: vs[j], audioSim: as[j] });
    return { anchor, positives: byAgreement.slice(0, k).map(row), rejected: rejected.map(row) };
  });
}
