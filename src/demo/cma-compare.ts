// CMA against Cross-AVID after the same number of updates. Both branches start from one Cross-AVID
// checkpoint (E1 epochs: model, memory banks, Z) and train E2 more epochs with the same config (batch, lr,
// schedule, data order, seed); the only difference is the objective: Cross-AVID (objective.kind=avid,
// variant cross) or CMA (Cross-AVID + λ·wMPD). Both then get the same linear probes (`avid eval-av`'s
// evaluation) and the CMA diagnostics of their memory banks (appended to each run's metrics).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { pretrain } from '../train/pretrain.js';
import { writeJson, ensureRunDir } from '../train/run-dir.js';
import { readManifest } from '../data/manifest.js';
import { readRunArtifact, readMemoryBanks, avModelOf, disposeArtifact } from '../train/run-artifact.js';
import { readLabelledVideos, evaluateAV } from '../eval/av-evaluation.js';
import { decodeEvalClips } from '../eval/av-features.js';
import { clipGeometry } from '../eval/clip-geometry.js';
import { formatTable } from '../eval/results.js';
import { diagnoseBanks, type BankDiagnostics } from '../eval/cma-diagnostics.js';
import { twinsFromWorld } from '../ssl/cma-measures.js';
import { appendDiagnostics } from '../report/cma-diagnostics-metric.js';

export interface CompareOptions {
  /** The Cross-AVID checkpoint both branches start from. */
  init: string;
  /** The manifest it trained on (the memory banks' rows). */
  manifest: string;
  /** labels.csv with a train/test split, for the linear probes. */
  labels: string;
  out: string;
  /** The CMA config; the Cross-AVID branch is the same config with objective.kind=avid. */
  config: string;
  /** Epochs of each branch (E2). */
  epochs?: number;
  seeds?: number[];
  /** Extra `key=value` overrides for both branches. */
  overrides?: string[];
}

export interface BranchResult {
  branch: 'cross-avid' | 'cma';
  seed: number;
  checkpoint: string;
  /** Linear probe video@1 on the test split, per block, of each encoder. */
  probe: { video: Record<string, number>; audio: Record<string, number> };
  retrieval: { v2a: number; a2v: number };
  diagnostics: BankDiagnostics;
}

export async function compareEqualUpdates(o: CompareOptions): Promise<{ results: BranchResult[]; table: string }> {
  const out = path.resolve(o.out);
  ensureRunDir(out);
  const manifest = readManifest(o.manifest);
  const samples = manifest.map((e) => ({ label: e.label === undefined ? -1 : Number(e.label), fold: Number(e.fold ?? 1), group: String(e.group ?? e.index) }));
  const world = path.join(path.dirname(o.labels), 'world.json');
  const twinOf = existsSync(world) ? twinsFromWorld(JSON.parse(readFileSync(world, 'utf8'))) : {};
  const results: BranchResult[] = [];
  const videos = await readLabelledVideos(o.labels);
  let clips: Awaited<ReturnType<typeof decodeEvalClips>> | null = null;
  for (const seed of o.seeds ?? [0]) {
    for (const branch of ['cross-avid', 'cma'] as const) {
      const name = `${branch}-seed${seed}`;
      const overrides = [`data.source=${o.manifest}`, `data.labels=${o.labels}`, `init=${o.init}`, `runsDir=${out}`, `name=${name}`, `seed=${seed}`, ...(o.epochs ? [`train.epochs=${o.epochs}`] : []), ...(branch === 'cross-avid' ? ['objective.kind=avid', 'objective.variant=cross'] : []), ...(o.overrides ?? [])];
      const config = loadConfig(o.config, overrides);
      process.stderr.write(`\n[${name}] ${config.train.epochs} epochs from ${o.init}\n`);
      const done = completedCheckpoint(path.join(out, name), config.train.epochs);
      if (done) process.stderr.write(`already trained: ${done}\n`);
      const run = done ? { checkpoint: done } : await pretrain(config);
      const banks = readMemoryBanks(run.checkpoint);
      let diagnostics: BankDiagnostics;
      try {
        diagnostics = diagnoseBanks(banks, samples, { k: config.objective.cma.positives, twinOf });
      } finally {
        banks.video.dispose();
        banks.audio.dispose();
      }
      appendDiagnostics(path.join(out, name), config.train.epochs - 1, diagnostics, name);
      const artifact = readRunArtifact(run.checkpoint, { seed: 1 });
      try {
        const model = avModelOf(artifact, 'the comparison');
        const geometry = clipGeometry(artifact.config, artifact.audioStats);
        clips ??= await decodeEvalClips(videos, geometry, { clipsPerVideo: 2 });
        const e = await evaluateAV(model, videos, geometry, clips);
        const scores = (p: Record<string, { video: number }>) => Object.fromEntries(Object.entries(p).map(([b, s]) => [b, s.video]));
        results.push({ branch, seed, checkpoint: run.checkpoint, probe: { video: scores(e.probe.video), audio: scores(e.probe.audio) }, retrieval: { v2a: e.retrieval.v2a.recall[1], a2v: e.retrieval.a2v.recall[1] }, diagnostics });
      } finally {
        disposeArtifact(artifact);
      }
      writeJson(out, 'equal-updates.json', { init: o.init, config: o.config, epochs: o.epochs ?? null, results });
    }
  }
  const table = comparisonTable(results);
  return { results, table };
}

/** The checkpoint of a run that finished all its epochs (its metrics have the last epoch), or null. */
function completedCheckpoint(runDir: string, epochs: number): string | null {
  const checkpoint = path.join(runDir, 'checkpoints', 'last.safetensors');
  const metrics = path.join(runDir, 'metrics.jsonl');
  if (!existsSync(checkpoint) || !existsSync(metrics)) return null;
  const finished = readFileSync(metrics, 'utf8')
    .split('\n')
    .some((line) => {
      try {
        const r = JSON.parse(line);
        return r.kind === 'epoch' && r.epoch === epochs - 1 && r.steps !== undefined;
      } catch {
        return false;
      }
    });
  return finished ? checkpoint : null;
}

/** One row per branch and seed, then the mean over seeds per branch. */
export function comparisonTable(results: BranchResult[]): string {
  const pct = (x: number) => (100 * x).toFixed(1);
  const row = (label: string, rs: BranchResult[]) => {
    const mean = (f: (r: BranchResult) => number) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
    return [
      label,
      pct(mean((r) => r.probe.video.conv5x)),
      pct(mean((r) => Math.max(...Object.values(r.probe.video)))),
      pct(mean((r) => r.probe.audio.conv5x)),
      pct(mean((r) => Math.max(...Object.values(r.probe.audio)))),
      pct(mean((r) => r.retrieval.v2a)),
      pct(mean((r) => r.retrieval.a2v)),
      pct(mean((r) => r.diagnostics.probe?.both ?? NaN)),
      mean((r) => r.diagnostics.collapse.video).toFixed(3),
      mean((r) => r.diagnostics.collapse.audio).toFixed(3),
    ];
  };
  const rows = results.map((r) => row(`${r.branch} seed ${r.seed}`, [r]));
  const seeds = new Set(results.map((r) => r.seed));
  if (seeds.size > 1) for (const b of ['cross-avid', 'cma'] as const) rows.push(row(`${b} mean`, results.filter((r) => r.branch === b)));
  return formatTable(['branch', 'video conv5x %', 'video best %', 'audio conv5x %', 'audio best %', 'v→a R@1 %', 'a→v R@1 %', 'memory probe both %', 'collapse video', 'collapse audio'], rows);
}
