// Audio-visual temporal synchronisation (Korbar et al., NeurIPS 2018): is this (video clip, audio clip) pair
// in sync? Each video clip comes with its in-sync audio and one negative audio: an easy negative (audio of
// another video) or a hard one (audio of the same video shifted by at least a minimum offset). A curriculum
// uses easy negatives only for the first epochs, then a share of hard ones. The loss is AVTS's contrastive
// loss on the embeddings' distance: d² for in-sync pairs and max(0, η − d)² for negatives.
import { Tensor, tidy } from '../tensor/index.js';
import type { EmbeddedBatch, Objective, ObjectiveOutput, ObjectiveState, StepContext } from './objective.js';

export interface AvtsOptions {
  /** Margin η on the Euclidean distance of unit-norm embeddings (at most 2). */
  margin: number;
  /** Share of hard negatives once the curriculum's easy phase is over. */
  hardNegativeShare: number;
  /** Epochs of easy negatives only. */
  curriculumEpochs: number;
}

/** The share of hard negatives in force at `epoch` (0-based). */
export function hardShareAt(options: AvtsOptions, epoch: number): number {
  return epoch < options.curriculumEpochs ? 0 : options.hardNegativeShare;
}

/** AVTS contrastive loss: mean over in-sync pairs of d² and over negatives of max(0, η − d)². */
export function avtsLoss(video: Tensor, positiveAudio: Tensor, negativeAudio: Tensor, margin: number): { loss: Tensor; positive: Tensor; negative: Tensor } {
  return tidy(() => {
    const dPos = video.sub(positiveAudio).norm(2, 1);
    const dNeg = video.sub(negativeAudio).norm(2, 1);
    const positive = dPos.square().mean();
    const negative = dNeg.neg().add(margin).clamp(0).square().mean();
    return { loss: positive.add(negative), positive, negative };
  });
}

/** Share of pairs whose in-sync audio is closer to the video than the negative audio (chance: 0.5). */
export function syncPairAccuracy(video: Tensor, positiveAudio: Tensor, negativeAudio: Tensor): number {
  return tidy(() => video.sub(positiveAudio).norm(2, 1).lt(video.sub(negativeAudio).norm(2, 1)).to('float32').mean().item());
}

export class AvtsObjective implements Objective {
  readonly name = 'avts';
  constructor(readonly options: AvtsOptions) {}

  beforeEpoch(): void {}

  loss(batch: EmbeddedBatch, _ctx: StepContext): ObjectiveOutput {
    if (!batch.audioNegative) throw new Error('AVTS needs a negative audio clip per sample (the data source did not provide one)');
    return tidy(() => {
      const { loss, positive, negative } = avtsLoss(batch.video, batch.audio, batch.audioNegative!, this.options.margin);
      return { loss, terms: { sync_pos: positive.item(), sync_neg: negative.item(), pair_acc: syncPairAccuracy(batch.video, batch.audio, batch.audioNegative!) } };
    });
  }

  afterStep(): void {}

  state(): ObjectiveState {
    return { tensors: new Map(), scalars: {} };
  }
  loadState(): void {}
  dispose(): void {}
}

