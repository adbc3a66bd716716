// The long-form sampling ablation: pre-train the same config with a grid of (k, w) settings, then compare
// their loss curves and linear-probe results (the paper's finding: k > 1 with w = the whole video helps,
// adjacent sampling w = k hurts, and the loss falls slower as k grows or w shrinks).
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

export interface AblationResult {
  setting: AblationSetting;
  name: string;
  losses: [number, number][];
  finalLoss: number;
  probe?: { video: number; audio: number };
}

const label = (s: AblationSetting) => `k=${s.k}, w=${s.w === 'video' ? 'Mₙ' : s.w}`;

export interface AblationOptions {
  /** Linear probes after each run (default true, when there are labels). */
  probe?: boolean;
  /** The labelled videos the probes train and test on (default the config's data.labels). */
  probeLabels?: string;
}

export async function runLongFormAblation(base: PretrainConfig, settings: AblationSetting[], outDir: string, o: AblationOptions = {}): Promise<{ results: AblationResult[]; page: string; table: string }> {
  mkdirSync(outDir, { recursive: true });
  const results: AblationResult[] = [];
  // The probe clips are the same for every setting (same geometry): decoded once.
  let probeSet: { videos: Awaited<ReturnType<typeof readLabelledVideos>>; clips: Awaited<ReturnType<typeof decodeEvalClips>> } | null = null;
  const probeLabels = o.probeLabels ?? base.data.labels;
  for (const setting of settings) {
    const name = `k${setting.k}-w${setting.w}`;
    const raw = JSON.parse(JSON.stringify(base)) as Record<string, any>;
    Object.assign(raw, { name, runsDir: outDir, sampler: { kind: 'long-form', k: setting.k, w: setting.w } });
    const config = parseConfig(raw, `ablation ${name}`);
    process.stderr.write(`\n== long-form sampling ${label(setting)} ==\n`);
    const run = await pretrain(config);
    const losses = readFileSync(path.join(outDir, name, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.kind === 'train')
      .map((r) => [r.step, r.loss] as [number, number]);
    const result: AblationResult = { setting, name, losses, finalLoss: losses.at(-1)?.[1] ?? NaN };
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
    results.push(result);
  }
  const table = formatTable(
    ['setting', 'final loss', 'video@1 conv5x %', 'audio@1 conv5x %'],
    results.map((r) => [label(r.setting), r.finalLoss.toFixed(3), r.probe ? (100 * r.probe.video).toFixed(1) : '-', r.probe ? (100 * r.probe.audio).toFixed(1) : '-']),
  );
  writeFileAtomic(path.join(outDir, 'ablation.json'), `${JSON.stringify(results, null, 2)}\n`);
  const page = path.join(outDir, 'ablation.html');
  const curves = linePlot({ title: 'Training loss by long-form setting', xLabel: 'step', yLabel: 'loss', series: results.map((r) => ({ name: label(r.setting), points: r.losses })) });
  const probes = results.some((r) => r.probe)
    ? barChart({ title: 'Linear probe video@1 / audio@1 (conv5x)', yLabel: 'accuracy', yMax: 1, groups: results.map((r) => ({ label: label(r.setting), values: [r.probe?.video ?? 0, r.probe?.audio ?? 0] })), seriesNames: ['video', 'audio'] })
    : html`<p>No labels: probes not run.</p>`;
  writeFileSync(page, html`<!doctype html><html><head><meta charset="utf-8"><title>Long-form sampling ablation</title><style>body{font-family:sans-serif;margin:2em}svg{max-width:100%}pre{background:#f4f4f4;padding:1em}</style></head><body><h1>Long-form sampling ablation</h1>${curves}${probes}<pre>${table}</pre></body></html>`.value);
  return { results, page, table };
}
