// Evaluation's decoding: K uniformly spaced clips per video (8 frames of 112² at 16 fps in the evaluation
// centre crop, the 2 s of 24 kHz audio around each), the clips of one video in one decodeClips call, as
// `eval-av`, the demo and retrieval decode them (decodeEvalClips). Measured with the two ways a call's clips
// share a pass over the file: 'same-seek' (the default: only clips reached from the same keyframe, each
// byte-identical to decoding it alone) and 'nearby' (the former default: clips within a second of each other,
// the least decoding, but not always the clip decoded alone). The difference is the price of exactness.
//
// Clips per CPU-second (user + system CPU of this process: the decoder runs on its native threads). The two
// alternate, --rounds times; medians with every value and the load average. One JSON line.
// Options: --data DIR (default ../shared/data/av-clips) --clips 10 --workers 2 --rounds 3
import { parseArgs } from 'node:util';
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeMedia } from '../src/media/probe.js';
import { decodeEvalClips, type AVVideo } from '../src/eval/av-features.js';
import { TRAINING_CLIP } from './lib/training-clip.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    data: { type: 'string', default: path.resolve(repoRoot, '../shared/data/av-clips') },
    clips: { type: 'string', default: '10' },
    workers: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
  },
});
const clipsPerVideo = Number(values.clips);
const workers = Number(values.workers);
const rounds = Number(values.rounds);
for (const [flag, v] of Object.entries({ '--clips': clipsPerVideo, '--workers': workers, '--rounds': rounds })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} must be an integer ≥ 1, got ${v}`);
}

const dataDir = path.resolve(values.data!);
const videos: AVVideo[] = [];
for (const name of readdirSync(dataDir).sort()) {
  const info = await probeMedia(path.join(dataDir, name), { verifyEnd: false }).catch(() => null);
  if (info?.video && info.audio) videos.push({ path: info.path, durationSec: info.durationSec, width: info.video.width, height: info.video.height });
}
if (videos.length === 0) throw new Error(`${dataDir}: no file with both a video and an audio stream`);
const geometry = { frames: TRAINING_CLIP.frames, fps: TRAINING_CLIP.fps, size: TRAINING_CLIP.size, audioSeconds: TRAINING_CLIP.audioSeconds, sampleRate: TRAINING_CLIP.sampleRate, hopSeconds: 0.02, windowSeconds: 0.02, freqBins: 129 };

async function measure(join: 'same-seek' | 'nearby') {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const clips = await decodeEvalClips(videos, geometry, { clipsPerVideo, workers, join });
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const n = clips.pixels.length;
  return { clips: n, clipsPerSec: n / wallSeconds, clipsPerCpuSecond: n / ((cpu.user + cpu.system) / 1e6) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round3 = (x: number) => Math.round(x * 1000) / 1000;
const loadStart = loadavg();
const runs: Record<'same-seek' | 'nearby', { clipsPerSec: number; clipsPerCpuSecond: number }[]> = { 'same-seek': [], nearby: [] };
await measure('same-seek'); // warm-up: file cache, container cache, thread pools
for (let r = 0; r < rounds; r++) {
  for (const join of r % 2 === 0 ? (['same-seek', 'nearby'] as const) : (['nearby', 'same-seek'] as const)) {
    const m = await measure(join);
    runs[join].push({ clipsPerSec: round3(m.clipsPerSec), clipsPerCpuSecond: round3(m.clipsPerCpuSecond) });
  }
}
const summary = (join: 'same-seek' | 'nearby') => ({ clipsPerSec: median(runs[join].map((r) => r.clipsPerSec)), clipsPerCpuSecond: median(runs[join].map((r) => r.clipsPerCpuSecond)), runs: runs[join] });
const sameSeek = summary('same-seek');
const nearby = summary('nearby');
console.log(
  JSON.stringify({
    bench: 'eval-decode',
    config: { data: dataDir, videos: videos.length, clipsPerVideo, workers, rounds, frames: geometry.frames, fps: geometry.fps, size: geometry.size, audioSeconds: geometry.audioSeconds, sampleRate: geometry.sampleRate },
    sameSeek,
    nearby,
    ratioPerCpuSecond: round3(sameSeek.clipsPerCpuSecond / nearby.clipsPerCpuSecond),
    loadAverage: { start: loadStart.map(round3), end: loadavg().map(round3) },
  }),
);
