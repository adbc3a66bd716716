// Cross-modal retrieval over the videos of a folder or manifest: each video's K aligned evaluation clips are
// embedded by the AV model and averaged; the i-th video's audio is its match (video→audio and audio→video
// recall@1/5/10, median rank). The clip geometry and statistics are the checkpoint's.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type * as T from '../tensor/index.js';
import { readRunArtifact, avModelOf, disposeArtifact, artifactIdentity, type RandomArchitecture } from '../train/run-artifact.js';
import { evaluateOnDevice } from '../train/device-transfer.js';
import { readManifest, buildManifest, type ManifestEntry } from '../data/manifest.js';
import { ClipDataset } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import { spectrogramConfigFor } from '../media/audio-input.js';
import { evaluationFrontend, assertStatsMatchFrontend, statisticsSource, type EvaluationAudioOptions } from './audio-frontend.js';
import { loadAudioStatsFile } from './audio-stats-file.js';
import { embedVideos, type AVEmbedder } from './av-embeddings.js';
import { crossModalRetrieval, type RetrievalResult } from './retrieval.js';

export interface RetrievalRunOptions extends EvaluationAudioOptions {
  checkpoint: string;
  random?: RandomArchitecture;
  /** A manifest (.jsonl) or a directory of audio-visual files. */
  data: string;
  clipsPerVideo: number;
  batchSize: number;
  seed: number;
  device: T.Device;
  log: (line: string) => void;
}

export interface RetrievalRun {
  protocol: 'retrieval';
  data: string;
  encoder: Record<string, unknown>;
  settings: Record<string, unknown>;
  videos: number;
  skipped: ReturnType<DataLoader['stats']>['skipped'];
  seconds: number;
  results: RetrievalResult;
}

export async function runRetrieval(o: RetrievalRunOptions): Promise<RetrievalRun> {
  const { log, seed } = o;
  const artifact = readRunArtifact(o.checkpoint, { seed, random: o.random });
  const { config } = artifact;
  let audioStats = artifact.audioStats;
  try {
    const settings = { model: config.model, video: config.video, audio: { ...config.audio, frontend: evaluationFrontend(config, o.frontend) } };
    if (o.audioStatsFile) audioStats = loadAudioStatsFile(o.audioStatsFile, spectrogramConfigFor(settings.audio));
    assertStatsMatchFrontend(audioStats, settings.audio.frontend);
    const model = avModelOf(artifact, 'retrieval');
    let entries: ManifestEntry[];
    if (existsSync(o.data) && statSync(o.data).isDirectory()) {
      const manifest = await buildManifest([o.data], { mode: 'audio-visual', clipSeconds: settings.audio.seconds, verifyEnd: false });
      for (const r of manifest.rejects) log(`retrieval: skipped ${r.path} (${r.reason})`);
      entries = manifest.entries;
    } else {
      entries = readManifest(o.data);
    }
    if (entries.length < 2) throw new Error(`retrieval needs at least 2 audio-visual videos in ${o.data}, found ${entries.length}`);
    const dataset = new ClipDataset(entries, {
      mode: 'eval',
      seed,
      clip: { numFrames: settings.video.frames, fps: settings.video.fps, audioSeconds: settings.audio.seconds, audioOffsetSec: 0, audioDurationJitter: null },
      frameSize: [settings.video.size, settings.video.size],
      sampleRate: settings.audio.sampleRate,
      clipsPerVideo: o.clipsPerVideo,
    });
    const loader = new DataLoader(dataset, {
      batchSize: o.batchSize,
      spectrogram: audioStats?.config ?? spectrogramConfigFor(settings.audio),
      spectrogramStats: audioStats ?? undefined,
      log,
    });
    const started = performance.now();
    const embeddings = await embedVideos(evaluateOnDevice(model, o.device, ['embedVideo', 'embedAudio']) as unknown as AVEmbedder, loader, (clips) => log(`retrieval: ${clips} clips embedded`));
    const results = crossModalRetrieval(embeddings.video, embeddings.audio);
    return {
      protocol: 'retrieval',
      data: path.resolve(o.data),
      encoder: artifactIdentity(artifact),
      settings: { ...settings, clipsPerVideo: o.clipsPerVideo, seed, normalisation: statisticsSource(audioStats, o.audioStatsFile && path.resolve(o.audioStatsFile)) ?? 'log spectrogram as is' },
      videos: embeddings.indices.length,
      skipped: loader.stats().skipped,
      seconds: (performance.now() - started) / 1000,
      results,
    };
  } finally {
    disposeArtifact(artifact);
  }
}
