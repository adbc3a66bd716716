// The long-form sampling ablation: pre-train the same config with a grid of (k, w) settings, over one or
// more seeds, then compare their loss curves and linear-probe results (the paper's finding: k > 1 with
// w = the whole video helps, adjacent sampling w = k hurts, and the loss falls slower as k grows or w shrinks).
// The objective is the in-batch contrastive loss by default: k and w act on the loss only through the batch's
// negatives; a memory-bank objective (avid, cma) draws its negatives uniformly from all clips whatever the
// batch, so under it k and w change which clips share a step, never what the loss contrasts against.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { PretrainConfig } from '../config/schema.js';
import { parseConfig } from '../config/load.js';
import { pretrain } from '../train/pretrain.js';
import { readRunArtifact, avModelOf, disposeArtifact } from '../train/run-artifact.js';
import { readLabelledVideos, evaluateAV } from '../eval/av-evaluation.js';
import { decodeEvalClips } from '../eval/av-features.js';
import { clipGeometry } from '../eval/clip-geometry.js';
import { formatTable } from '../eval/results.js';
import { linePlot, barChart } from '../report/svg-plot.js';
import { html } from '../report/html.js';
import { writeFileAtomic } from '../io/atomic.js';

export interface AblationSetting {
  k: number;
  w: number | 'video';
}

export interface AblationRun {
  seed: number;
  name: string;
  /** (step, loss) of every logged training step. */
  losses: [number, number][];
  probe?: { video: number; audio: number };
}

/** A mean over seeds and its standard error (null with a single seed). */
export interface MeanWithError {
  mean: number;
  se: number | null;
  n: number;
}

export interface AblationResult {
  setting: AblationSetting;
  runs: AblationRun[];
  /** The loss of the first logged step (the model at initialisation), over seeds. */
  firstLoss: MeanWithError;
  /** The mean loss over the last half of the logged steps, over seeds. */
  lateLoss: MeanWithError;
  probeVideo?: MeanWithError;
  probeAudio?: MeanWithError;
}

const label = (s: AblationSetting) => `k=${s.k}, w=${s.w === 'video' ? 'Mₙ' : s.w}`;

/** The objectives the ablation can train with; 'config' keeps the config's own. */
export const ABLATION_OBJECTIVES = ['in-batch', 'avid', 'cma', 'config'] as const;
export type AblationObjective = (typeof ABLATION_OBJECTIVES)[number];

export interface AblationOptions {
  /** Linear probes after each run (default true, when there are labels). */
  probe?: boolean;
  /** The labelled videos the probes train and test on (default the config's data.labels). */
  probeLabels?: string;
  /** Seeds: each setting is trained once per seed (default the config's seed). */
  seeds?: number[];
  /** The objective (default in-batch, whatever the config says; 'config': the config's). */
  objective?: AblationObjective;
}

/** Mean and standard error of the mean (sample standard deviation / √n). */
export function meanWithError(values: number[]): MeanWithError {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const se = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) / n) : null;
  return { mean, se, n };
}

/** The mean loss over the last half of a run's logged steps. */
export function lateMeanLoss(losses: [number, number][]): number {
  const late = losses.slice(Math.floor(losses.length / 2));
  return late.reduce((a, [, l]) => a + l, 0) / late.length;
}

const formatMean = (m: MeanWithError | undefined, scale = 1, digits = 3) => (m ? `${(m.mean * scale).toFixed(digits)}${m.se !== null ? ` ± ${(m.se * scale).toFixed(digits)}` : ''}` : '-');

export async function runLongFormAblation(base: PretrainConfig, settings: AblationSetting[], outDir: string, o: AblationOptions = {}): Promise<{ results: AblationResult[]; page: string; table: string }> {
  mkdirSync(outDir, { recursive: true });
  const results: AblationResult[] = [];
  const seeds = o.seeds ?? [base.seed];
  const objective = o.objective ?? 'in-batch';
  // The probe clips are the same for every setting (same geometry): decoded once.
  let probeSet: { videos: Awaited<ReturnType<typeof readLabelledVideos>>; clips: Awaited<ReturnType<typeof decodeEvalClips>> } | null = null;
  const probeLabels = o.probeLabels ?? base.data.labels;
  for (const setting of settings) {
    const runs: AblationRun[] = [];
    for (const seed of seeds) {
      const name = `k${setting.k}-w${setting.w}${seeds.length > 1 ? `-s${seed}` : ''}`;
      const raw = JSON.parse(JSON.stringify(base)) as Record<string, any>;
      Object.assign(raw, { name, seed, runsDir: outDir, sampler: { kind: 'long-form', k: setting.k, w: setting.w } });
      if (objective !== 'config') raw.objective = { ...raw.objective, kind: objective };
      const config = parseConfig(raw, `ablation ${name}`);
      process.stderr.write(`\n== long-form sampling ${label(setting)}, seed ${seed}, objective ${config.objective.kind} ==\n`);
      const run = await pretrain(config, { existing: 'resume' });
      const losses = readFileSync(path.join(outDir, name, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((r) => r.kind === 'train')
        .map((r) => [r.step, r.loss] as [number, number]);
      const result: AblationRun = { seed, name, losses };
      if ((o.probe ?? true) && probeLabels) {
        const artifact = readRunArtifact(run.checkpoint);
        try {
          const geometry = clipGeometry(artifact.config, artifact.audioStats);
          if (!probeSet) {
            const videos = await readLabelledVideos(probeLabels);
            probeSet = { videos, clips: await decodeEvalClips(videos, geometry, { clipsPerVideo: 1 }) };
          }
          const { videos, clips } = probeSet;
          const e = await evaluateAV(avModelOf(artifact, 'the ablation probe'), videos, geometry, clips);
          result.probe = { video: e.probe.video.conv5x.video, audio: e.probe.audio.conv5x.video };
        } finally {
          disposeArtifact(artifact);
        }
      }
      runs.push(result);
    }
    const probed = runs.filter((r) => r.probe);
    results.push({
      setting,
      runs,
      firstLoss: meanWithError(runs.map((r) => r.losses[0]?.[1] ?? NaN)),
      lateLoss: meanWithError(runs.map((r) => lateMeanLoss(r.losses))),
      ...(probed.length > 0 ? { probeVideo: meanWithError(probed.map((r) => r.probe!.video)), probeAudio: meanWithError(probed.map((r) => r.probe!.audio)) } : {}),
    });
  }
  const table = formatTable(
    ['setting', 'seeds', 'loss at step 1', 'mean loss, last half', 'video@1 conv5x %', 'audio@1 conv5x %'],
    results.map((r) => [label(r.setting), String(r.runs.length), formatMean(r.firstLoss), formatMean(r.lateLoss), formatMean(r.probeVideo, 100, 1), formatMean(r.probeAudio, 100, 1)]),
  );
  writeFileAtomic(path.join(outDir, 'ablation.json'), `${JSON.stringify({ objective, seeds, results }, null, 2)}\n`);
  const page = path.join(outDir, 'ablation.html');
  // One curve per setting: the mean over seeds at each logged step.
  const meanCurve = (r: AblationResult): [number, number][] => {
    const bySteps = new Map<number, number[]>();
    for (const run of r.runs) for (const [step, loss] of run.losses) bySteps.set(step, [...(bySteps.get(step) ?? []), loss]);
    return [...bySteps].filter(([, ls]) => ls.length === r.runs.length).map(([step, ls]) => [step, ls.reduce((a, b) => a + b, 0) / ls.length]);
  };
  const curves = linePlot({ title: `Training loss by long-form setting (${objective === 'config' ? base.objective.kind : objective} objective, mean over ${seeds.length} seed(s))`, xLabel: 'step', yLabel: 'loss', series: results.map((r) => ({ name: label(r.setting), points: meanCurve(r) })) });
  const probes = results.some((r) => r.probeVideo)
    ? barChart({ title: 'Linear probe video@1 / audio@1 (conv5x), mean over seeds', yLabel: 'accuracy', yMax: 1, groups: results.map((r) => ({ label: label(r.setting), values: [r.probeVideo?.mean ?? 0, r.probeAudio?.mean ?? 0] })), seriesNames: ['video', 'audio'] })
    : html`<p>No labels: probes not run.</p>`;
  writeFileSync(page, html`<!doctype html><html><head><meta charset="utf-8"><title>Long-form sampling ablation</title><style>body{font-family:sans-serif;margin:2em}svg{max-width:100%}pre{background:#f4f4f4;padding:1em}</style></head><body><h1>Long-form sampling ablation</h1>${curves}${probes}<pre>${table}</pre><p>± : standard error of the mean over seeds.</p></body></html>`.value);
  return { results, page, table };
}
