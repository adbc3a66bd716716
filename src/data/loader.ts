// The loader: an async iterator of batches over a ClipDataset.
//
// - `workers` decode calls run at once (each on a native thread of the decoder: the parallelism is there,
//   not in JavaScript), up to `prefetch` batches ahead of the consumer; the samples of one batch that come
//   from the same video are one call (groupByVideo), so that clips near each other share a pass over the file;
// - the order comes from a Sampler (shuffled by default in training), and every sample's randomness from
//   (seed, epoch, index, clip): the same seed gives byte-identical batches, whatever finishes first;
// - batches are assembled when the consumer asks for them (colour jitter, normalisation, audio resampling
//   and spectrogram are tensor ops), so a prefetched batch holds no tensor and closing leaks nothing;
// - a sample whose file fails to decode is skipped, logged and counted (stats().skipped), and the batch is
//   filled from the next samples in order; a failing file never stops the run;
// - close() (also when the consumer breaks out of the loop, or an error escapes) stops every decode.
//   The tensors of a yielded batch belong to the consumer, who disposes them.
import * as T from '../tensor/index.js';
import { AbortError } from '../media/child-processes.js';
import { DecodeError } from '../media/decode.js';
import { checkFiniteSamples } from '../media/finite-samples.js';
import { clipsToNetworkInput } from '../media/video-tensor.js';
import { jitteredSpectrogramBatch } from '../media/audio-transforms.js';
import { normalizeSpectrogram, ANALYSIS_SPECTROGRAM, type SpectrogramConfig, type SpectrogramStats } from '../media/spectrogram.js';
import { audioSpectrogram } from '../media/audio-input.js';
import type { ClipDataset, ItemOutcome, Sample } from './dataset.js';
import { ShuffleSampler, SequentialSampler, type Sampler } from './sampler.js';

export interface LoaderOptions {
  batchSize: number;
  /** Default: shuffled (seed of the dataset) in training, sequential in evaluation. */
  sampler?: Sampler;
  /** Decode calls at once (default 2), each on its own native thread: one sample, or one video's group. */
  workers?: number;
  /**
   * Decode the samples of one batch that come from the same video in one call (default true): clips reached
   * from the same keyframe then share one pass over the file (see ClipDataset.getGroup) — with long-form
   * sampling (k clips of one video within a window) or several clips per video, the keyframe and the frames
   * up to the clip are decoded once instead of k times. The batches are byte-identical either way.
   */
  groupByVideo?: boolean;
  /** Batches decoded ahead of the consumer (default 2). */
  prefetch?: number;
  /** Drop a last, incomplete batch (default: true in training, false in evaluation). */
  dropLast?: boolean;
  /** Spectrogram of the audio (default the analysis setting, 100 × 129 for 2 s). */
  spectrogram?: SpectrogramConfig;
  /** Per-bin statistics for Z-normalisation; without them the log spectrogram is returned as is. */
  spectrogramStats?: SpectrogramStats;
  /** ImageNet mean/std normalisation of the video (default true; false leaves values in [0, 1]). */
  normalizeVideo?: boolean;
  /**
   * libtorch threads while a batch is assembled (default 1), restored afterwards. The assembly is many small
   * tensor ops that run while the loader's ffmpeg processes keep the cores busy; multi-threaded, each op
   * then waits for its descheduled helper threads (measured on a loaded 2-core box: colour jitter of one
   * clip 559 ms with 2 threads, 5 ms with 1). 0 leaves the thread count alone.
   */
  collateThreads?: number;
  /** Where skipped samples are reported (default console.warn; null for silence — they are still counted). */
  log?: ((message: string) => void) | null;
}

export interface SampleMeta {
  index: number;
  clipIndex: number;
  path: string;
  startSec: number;
  audioStartSec: number;
  audioDurationSec: number;
  flip: boolean;
  paddedFrames: number;
  paddedSamples: number;
}

export interface Batch {
  /** (B, 3, T, H, W) float32, absent in audio-only datasets. */
  video?: T.Tensor;
  /** (B, 1, frames, bins) float32 log spectrogram, absent in video-only datasets. */
  audio?: T.Tensor;
  /** (B) int64 manifest indices. */
  index: T.Tensor;
  meta: SampleMeta[];
}

export interface SkippedSample {
  path: string;
  reason: string;
  index: number;
  clipIndex: number;
  epoch: number;
}

export interface LoaderStats {
  decoded: number;
  skipped: SkippedSample[];
}

type Slot = { sample: Sample } | { skipped: SkippedSample } | { error: unknown };

export class DataLoader implements AsyncIterable<Batch> {
  readonly batchSize: number;
  readonly sampler: Sampler;
  private readonly workers: number;
  private readonly groupByVideo: boolean;
  private readonly prefetch: number;
  private readonly dropLast: boolean;
  private readonly spectrogram: SpectrogramConfig;
  private readonly log: ((message: string) => void) | null;
  private readonly closing = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();
  private decoded = 0;
  private readonly skipped: SkippedSample[] = [];
  private closed = false;

  constructor(
    readonly dataset: ClipDataset,
    readonly options: LoaderOptions,
  ) {
    const positiveInt = (name: string, v: number) => {
      if (!Number.isInteger(v) || v < 1) throw new Error(`loader: ${name} must be a positive integer, got ${v}`);
    };
    positiveInt('batchSize', options.batchSize);
    this.batchSize = options.batchSize;
    this.workers = options.workers ?? 2;
    positiveInt('workers', this.workers);
    this.groupByVideo = options.groupByVideo ?? true;
    this.prefetch = options.prefetch ?? 2;
    if (!Number.isInteger(this.prefetch) || this.prefetch < 0) throw new Error(`loader: prefetch must be an integer ≥ 0, got ${this.prefetch}`);
    const training = dataset.options.mode === 'train';
    this.sampler = options.sampler ?? (training ? new ShuffleSampler(dataset.length, dataset.options.seed) : new SequentialSampler(dataset.length));
    this.dropLast = options.dropLast ?? training;
    this.spectrogram = options.spectrogram ?? ANALYSIS_SPECTROGRAM;
    if (this.spectrogram.sampleRate !== dataset.options.sampleRate) {
      throw new Error(`loader: the spectrogram expects ${this.spectrogram.sampleRate} Hz audio, the dataset decodes at ${dataset.options.sampleRate} Hz`);
    }
    if (options.spectrogramStats && options.spectrogramStats.mean.length !== this.spectrogram.freqBins) {
      throw new Error(`loader: spectrogram statistics have ${options.spectrogramStats.mean.length} bins, the spectrogram ${this.spectrogram.freqBins}`);
    }
    this.log = options.log === undefined ? (m) => console.warn(m) : options.log;
  }

  /** Decoded and skipped samples so far (all epochs). */
  stats(): LoaderStats {
    return { decoded: this.decoded, skipped: this.skipped.map((s) => ({ ...s })) };
  }

  /** Batches per epoch if nothing is skipped. */
  batchesPerEpoch(epoch = 0): number {
    const n = this.sampler.epochOrder(epoch).length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  [Symbol.asyncIterator](): AsyncIterator<Batch> {
    return this.epoch(0);
  }

  /** The batches of one epoch. Breaking out of the loop stops its decodes. */
  async *epoch(epoch: number): AsyncGenerator<Batch, void, undefined> {
    if (this.closed) throw new Error('loader: closed');
    const order = this.sampler.epochOrder(epoch);
    const slots: Promise<Slot>[] = new Array(order.length);
    const epochAbort = new AbortController();
    const stopEpoch = () => epochAbort.abort();
    this.closing.signal.addEventListener('abort', stopEpoch, { once: true });
    // Positions are started in groups (one video's samples of one nominal batch), not always in order:
    // `nextToStart` is the first position not started yet.
    const started = new Uint8Array(order.length);
    let nextToStart = 0;
    let running = 0;
    let consumed = 0;
    const window = (this.prefetch + 1) * this.batchSize;

    // The outcome of one sample as a slot: a decoded sample, a skip (counted and logged), or an error that
    // stops the epoch (an abort, a bug).
    const toSlot = (item: number, outcome: ItemOutcome): Slot => {
      try {
        if ('error' in outcome) throw outcome.error;
        const sample = outcome.sample;
        // NaN/Inf samples would poison the whole batch's loss: the clip is skipped like an undecodable one.
        if (sample.audio) checkFiniteSamples(sample.audio, sample.path, this.dataset.options.sampleRate, sample.timing.audioStartSec);
        this.decoded++;
        return { sample };
      } catch (error) {
        if (error instanceof DecodeError || isSystemError(error)) {
          const { index, clipIndex } = this.dataset.item(item);
          const reason = error instanceof DecodeError ? error.reason + (error.detail ? ` (${error.detail})` : '') : (error as Error).message;
          const skipped: SkippedSample = { path: this.dataset.entries[index].path, reason, index, clipIndex, epoch };
          this.skipped.push(skipped);
          this.log?.(`avid loader: skipped ${skipped.path} (clip ${clipIndex}, epoch ${epoch}): ${reason}`);
          return { skipped };
        }
        return { error };
      }
    };

    // Starts `position` and, with groupByVideo, the not yet started positions of its nominal batch (the
    // batchSize positions it falls in) that come from the same video, as one decode call.
    const start = (position: number) => {
      const positions = [position];
      if (this.groupByVideo) {
        const entry = this.dataset.item(order[position]).index;
        const batchEnd = Math.min(order.length, (Math.floor(position / this.batchSize) + 1) * this.batchSize);
        for (let q = position + 1; q < batchEnd; q++) if (!started[q] && this.dataset.item(order[q]).index === entry) positions.push(q);
      }
      for (const q of positions) started[q] = 1;
      while (nextToStart < order.length && started[nextToStart]) nextToStart++;
      running++;
      const items = positions.map((q) => order[q]);
      const call: Promise<Slot[]> = this.dataset.getGroup(items, epoch, epochAbort.signal).then(
        (outcomes) => outcomes.map((outcome, k) => toSlot(items[k], outcome)),
        (error: unknown) => items.map((item) => toSlot(item, { error })),
      );
      const tracked = call.finally(() => {
        running--;
        this.inFlight.delete(tracked);
        pump();
      });
      this.inFlight.add(tracked);
      positions.forEach((q, k) => (slots[q] = call.then((s) => s[k])));
    };
    const pump = () => {
      if (epochAbort.signal.aborted) return;
      while (nextToStart < order.length && running < this.workers && nextToStart < consumed + window) start(nextToStart);
    };

    try {
      pump();
      while (consumed < order.length) {
        const samples: Sample[] = [];
        while (samples.length < this.batchSize && consumed < order.length) {
          // Closed while the consumer held a batch: stop loudly, so that a training loop never mistakes an
          // interrupted epoch for a finished one.
          if (epochAbort.signal.aborted) throw new AbortError('loader closed');
          if (!started[consumed]) start(consumed);
          const slot = await slots[consumed];
          slots[consumed] = undefined as unknown as Promise<Slot>; // let the decoded bytes go
          consumed++;
          pump();
          if ('error' in slot) throw slot.error;
          if ('sample' in slot) samples.push(slot.sample);
        }
        if (samples.length === 0 || (samples.length < this.batchSize && this.dropLast)) break;
        yield this.collate(samples);
      }
    } finally {
      epochAbort.abort();
      this.closing.signal.removeEventListener('abort', stopEpoch);
      await this.settle();
    }
  }

  /** Assembles decoded samples into tensors: augment, normalise, spectrogram. */
  collate(samples: Sample[]): Batch {
    const [height, width] = this.dataset.options.frameSize;
    const stats = this.options.spectrogramStats;
    const threads = this.options.collateThreads ?? 1;
    const previousThreads = T.getNumThreads();
    const switchThreads = threads > 0 && threads !== previousThreads;
    if (switchThreads) T.setCallerThreads(threads);
    let tensors: { video?: T.Tensor; audio?: T.Tensor; index: T.Tensor };
    try {
      tensors = this.assemble(samples, height, width, stats);
    } finally {
      if (switchThreads) T.setCallerThreads(previousThreads);
    }
    const meta = samples.map(
      (s): SampleMeta => ({
        index: s.index,
        clipIndex: s.clipIndex,
        path: s.path,
        startSec: s.startSec,
        audioStartSec: s.timing.audioStartSec,
        audioDurationSec: s.timing.audioDurationSec,
        flip: s.flip,
        paddedFrames: s.paddedFrames,
        paddedSamples: s.paddedSamples,
      }),
    );
    return { ...tensors, meta };
  }

  private assemble(samples: Sample[], height: number, width: number, stats: SpectrogramStats | undefined): { video?: T.Tensor; audio?: T.Tensor; index: T.Tensor } {
    const d = this.dataset.options;
    return T.tidy(() => {
      const out: { video?: T.Tensor; audio?: T.Tensor; index: T.Tensor } = {
        index: T.tensor(BigInt64Array.from(samples, (s) => BigInt(s.index)), [samples.length], 'int64'),
      };
      if (d.modalities !== 'audio') {
        // One fused pass: /255, colour jitter, normalisation (clipsToNetworkInput).
        const jitter = samples.some((s) => s.colorJitter.order.length > 0) ? samples.map((s) => s.colorJitter) : null;
        out.video = clipsToNetworkInput(samples.map((s) => s.video!), d.clip.numFrames, height, width, jitter, this.options.normalizeVideo !== false);
      }
      if (d.modalities !== 'video') {
        const spec = jitteredSpectrogramBatch(samples.map((s) => s.audio!), this.dataset.audioLength, samples.map((s) => s.volumeGain), (waves) => audioSpectrogram(waves, this.spectrogram));
        out.audio = stats ? normalizeSpectrogram(spec, stats) : spec;
      }
      return out;
    });
  }

  private async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops every decode (killing its ffmpeg) and waits until all have ended. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    await this.settle();
  }
}

/** Errors from the file system (a cache folder that fills up, a file removed mid-run): skip, don't crash. */
function isSystemError(error: unknown): boolean {
  return error instanceof Error && !(error instanceof AbortError) && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}
