// The audio-visual model: both encoders and both projection heads, returning L2-normalised embeddings.
// Keys: video_model.*, audio_model.*, video_proj.projection.*, audio_proj.projection.*.
import { Tensor, tidy, functional as F } from '../tensor/index.js';
import { Module } from '../nn/index.js';
import { R2Plus1D, type VideoBlockName } from './r2plus1d.js';
import { AudioConv2d, type AudioBlockName } from './audio-conv2d.js';
import { ProjectionHead } from './heads.js';

export interface AVEmbeddings {
  /** (N, D) unit-norm video embeddings. */
  video: Tensor;
  /** (N, D) unit-norm audio embeddings. */
  audio: Tensor;
}

export class AVModel extends Module {
  readonly video_model: R2Plus1D;
  readonly audio_model: AudioConv2d;
  readonly video_proj: ProjectionHead;
  readonly audio_proj: ProjectionHead;

  constructor(videoModel: R2Plus1D, audioModel: AudioConv2d, embeddingDim = 128) {
    super();
    this.video_model = this.registerModule('video_model', videoModel);
    this.audio_model = this.registerModule('audio_model', audioModel);
    this.video_proj = this.registerModule('video_proj', new ProjectionHead(videoModel.outChannels, videoModel.outChannels, embeddingDim));
    this.audio_proj = this.registerModule('audio_proj', new ProjectionHead(audioModel.outChannels, audioModel.outChannels, embeddingDim));
  }

  embedVideo(video: Tensor): Tensor {
    return tidy(() => F.normalize(this.video_proj.forward(this.video_model.forward(video)), 2, 1));
  }
  embedAudio(audio: Tensor): Tensor {
    return tidy(() => F.normalize(this.audio_proj.forward(this.audio_model.forward(audio)), 2, 1));
  }
  forward(video: Tensor, audio: Tensor): AVEmbeddings {
    return { video: this.embedVideo(video), audio: this.embedAudio(audio) };
  }

  /** Every block's output of both encoders plus the heads' outputs (before normalisation), for probing. */
  forwardBlocks(video: Tensor, audio: Tensor): { video: Record<VideoBlockName | 'head', Tensor>; audio: Record<AudioBlockName | 'head', Tensor> } {
    return tidy(() => {
      const v = this.video_model.forwardBlocks(video) as Record<VideoBlockName | 'head', Tensor>;
      v.head = this.video_proj.forward(v.pool.flatten(1));
      const a = this.audio_model.forwardBlocks(audio) as Record<AudioBlockName | 'head', Tensor>;
      a.head = this.audio_proj.forward(a.pool.flatten(1));
      return { video: v, audio: a };
    });
  }
}
