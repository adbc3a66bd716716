// The long-form sampling policy ("Watching Too Much Television is Good"): a batch is made of groups of k
// clips that come from the same long video, within a window of w consecutive clips (w = 'video': anywhere in
// that video). Clips of one movie share actors, sets and sound, so the group's members are hard negatives for
// each other. k = 1 is uniform sampling.
//
// Items are clips: item offset[v] + c is clip c of video v. Each epoch visits every clip exactly once: each
// video's clips are cut into windows of w consecutive clips, shuffled within the window and chunked into
// groups of k; the groups are shuffled across videos and packed batchSize / k to a batch. Clips left over
// when a window's size is not a multiple of k (and videos shorter than k clips) cannot form a full group;
// they are visited as single clips in the epoch's last batches.
import { Rng, hash32 } from './rng.js';
import type { Sampler } from './sampler.js';

export interface LongFormOptions {
  k: number;
  w: number | 'video';
  batchSize: number;
  seed: number;
}

export class LongFormSampler implements Sampler {
  readonly offsets: number[];
  readonly size: number;

  constructor(
    readonly clipsPerVideo: number[],
    readonly options: LongFormOptions,
  ) {
    const { k, w, batchSize } = options;
    if (!Number.isInteger(k) || k < 1) throw new Error(`long-form sampler: k must be a positive integer, got ${k}`);
    if (w !== 'video' && (!Number.isInteger(w) || w < k)) throw new Error(`long-form sampler: w must be 'video' or an integer ≥ k (${k}), got ${w}`);
    if (batchSize % k !== 0) throw new Error(`long-form sampler: the batch size (${batchSize}) must be a multiple of k (${k})`);
    this.offsets = [];
    let total = 0;
    for (const n of clipsPerVideo) {
      this.offsets.push(total);
      total += n;
    }
    this.size = total;
  }

  /** The video and clip of an item. */
  locate(item: number): { video: number; clip: number } {
    let lo = 0;
    let hi = this.offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offsets[mid] <= item) lo = mid;
      else hi = mid - 1;
    }
    return { video: lo, clip: item - this.offsets[lo] };
  }

  /** The epoch's groups of k (and the leftover single clips), before packing. */
  groups(epoch: number): { groups: number[][]; leftovers: number[] } {
    const { k, w } = this.options;
    const rng = new Rng(hash32(this.options.seed, epoch, 'long-form'));
    const groups: number[][] = [];
    const leftovers: number[] = [];
    this.clipsPerVideo.forEach((n, v) => {
      const window = w === 'video' ? n : w;
      for (let start = 0; start < n; start += window) {
        const clips = rng.shuffle(Array.from({ length: Math.min(window, n - start) }, (_, i) => this.offsets[v] + start + i));
        const full = Math.floor(clips.length / k) * k;
        for (let g = 0; g < full; g += k) groups.push(clips.slice(g, g + k));
        leftovers.push(...clips.slice(full));
      }
    });
    return { groups: rng.shuffle(groups), leftovers: rng.shuffle(leftovers) };
  }

  epochOrder(epoch: number): number[] {
    const { groups, leftovers } = this.groups(epoch);
    return [...groups.flat(), ...leftovers];
  }
}
