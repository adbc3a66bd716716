// Synchronisation accuracy on held-out videos (AVTS): for each video, is its in-sync audio closer to the
// video clip than an out-of-sync one? Easy pairs take the negative from another video; hard pairs from the
// same video shifted by at least `minOffsetSeconds`. Chance is 50%.
import * as T from '../tensor/index.js';
import type { AVModel } from '../models/index.js';
import { decodeVideoClip, decodeAudio } from '../media/decode.js';
import { clipsToUnitTensor, normalizeVideo } from '../media/video-tensor.js';
import { syncPairAccuracy } from '../ssl/avts.js';
import { audioInputFor, type ClipGeometry } from './localize.js';
import { stackWaveforms } from '../media/audio-input.js';

export interface SyncAccuracy {
  easy: number;
  hard: number;
  videos: number;
}

export async function evaluateSync(model: AVModel, videos: { path: string; durationSec: number }[], g: ClipGeometry, minOffsetSeconds: number): Promise<SyncAccuracy> {
  const clipSeconds = g.frames / g.fps;
  const usable = videos.filter((v) => v.durationSec >= g.audioSeconds + minOffsetSeconds + 0.05);
  if (usable.length < 2) throw new Error(`sync evaluation: need 2 videos longer than ${g.audioSeconds + minOffsetSeconds} s, found ${usable.length}`);
  const starts = usable.map((v) => Math.max(0, (v.durationSec - Math.max(clipSeconds, g.audioSeconds)) / 2));
  const pixels: Uint8Array[] = [];
  const inSync: Float32Array[] = [];
  const shifted: Float32Array[] = [];
  for (const [i, v] of usable.entries()) {
    const start = starts[i];
    const hardStart = start + minOffsetSeconds + g.audioSeconds <= v.durationSec ? start + minOffsetSeconds : Math.max(0, start - minOffsetSeconds);
    const [clip, audio, hard] = await Promise.all([
      decodeVideoClip(v.path, { startSec: start, numFrames: g.frames, fps: g.fps, outWidth: g.size, outHeight: g.size }),
      decodeAudio(v.path, { startSec: start, durationSec: g.audioSeconds, sampleRate: g.sampleRate }),
      decodeAudio(v.path, { startSec: hardStart, durationSec: g.audioSeconds, sampleRate: g.sampleRate }),
    ]);
    pixels.push(clip.pixels);
    inSync.push(audio.samples);
    shifted.push(hard.samples);
  }
  model.eval();
  return T.noGrad(() =>
    T.tidy(() => {
      const v = model.embedVideo(normalizeVideo(clipsToUnitTensor(pixels, g.frames, g.size, g.size)));
      const a = model.embedAudio(audioInputFor(g, stackWaveforms(inSync)));
      const hard = model.embedAudio(audioInputFor(g, stackWaveforms(shifted)));
      // Easy negative: the next video's in-sync audio.
      const easy = a.roll([1], [0]);
      return { easy: syncPairAccuracy(v, a, easy), hard: syncPairAccuracy(v, a, hard), videos: usable.length };
    }),
  );
}
