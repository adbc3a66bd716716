// Sound localisation by Grad-CAM (AVTS; Selvaraju et al.): back-propagate the audio-visual score v·a to the
// last video block, weigh its channels by their mean gradient, keep the positive part, and upsample to the
// clip's frames. The heatmap says which pixels made the video embedding agree with the sound.
import * as T from '../tensor/index.js';
import type { AVModel, VideoBlockName } from '../models/index.js';

/** (T, H, W) heatmap in [0, 1] for one clip (1, 3, T, H, W) and its audio (1, 1, frames, bins). */
export function videoGradCam(model: AVModel, video: T.Tensor, audio: T.Tensor, layer: VideoBlockName = 'conv5x'): T.Tensor {
  const modes = model.namedModules().map(([, m]) => [m, m.training] as const);
  model.eval();
  try {
    return T.tidy(() =>
      T.enableGrad(() => {
        const audioEmbedding = T.noGrad(() => model.embedAudio(audio));
        const blocks = model.video_model.forwardBlocks(video);
        const activation = blocks[layer];
        activation.retainGrad();
        const videoEmbedding = T.functional.normalize(model.video_proj.forward(blocks.pool.flatten(1)), 2, 1);
        videoEmbedding.mul(audioEmbedding).sum().backward();
        const gradient = activation.grad;
        if (!gradient) throw new Error(`Grad-CAM: no gradient reached ${layer}`);
        const weights = gradient.mean([2, 3, 4], true);
        const cam = activation.detach().mul(weights).sum(1, true).relu();
        const [, , frames, height, width] = video.shape;
        const up = T.functional.interpolate(cam, [frames, height, width], 'trilinear').squeeze(0).squeeze(0);
        return up.div(up.max().item() + 1e-12);
      }),
    );
  } finally {
    model.zeroGrad();
    for (const [m, training] of modes) m.training = training;
  }
}

/** Blends a jet-coloured heatmap (T, H, W) over frames (T, H, W, 3 uint8): half frame, half colour. */
export function overlayHeatmap(frames: T.Tensor, heatmap: T.Tensor): T.Tensor {
  return T.tidy(() => {
    const x = heatmap.unsqueeze(3).mul(4);
    const channel = (centre: number) => x.sub(centre).abs().neg().add(1.5).clamp(0, 1);
    const colour = T.cat([channel(3), channel(2), channel(1)], 3).mul(255);
    return frames.to('float32').mul(0.5).add(colour.mul(0.5)).clamp(0, 255).to('uint8');
  });
}

/** Per frame: does the heatmap's peak fall inside the box [x, y, w, h] (pixels of the heatmap's frame)? */
export function peakInBox(heatmap: T.Tensor, boxes: number[][]): boolean[] {
  const [frames, height, width] = heatmap.shape;
  const peaks = T.tidy(() => heatmap.reshape([frames, height * width]).argmax(1).toArray());
  return peaks.map((p, t) => {
    const [bx, by, bw, bh] = boxes[t];
    const y = Math.floor(p / width);
    const x = p % width;
    return x >= bx && x <= bx + bw && y >= by && y <= by + bh;
  });
}
