// The main job, end to end on a fresh machine: generate the synthetic world, pre-train Cross-AVID, continue
// with CMA, evaluate (linear probes against random initialisation, retrieval, CMA positives, localisation,
// an embedding map) and write the report. Everything lands in one run directory.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateWorld } from '../data/synth/index.js';
import { readManifest } from '../data/manifest.js';
import { loadConfig } from '../config/load.js';
import { pretrain } from '../train/pretrain.js';
import { writeJson, writeVersions, ensureRunDir } from '../train/run-dir.js';
import { readRunArtifact, readMemoryBanks, avModelOf, disposeArtifact } from '../train/run-artifact.js';
import { readLabelledVideos, evaluateAV, bestBlock, type AVEvaluation, type LabelledVideo } from '../eval/av-evaluation.js';
import { decodeEvalClips } from '../eval/av-features.js';
import { localizeClip, decodeLocalizationClip, localizationFrame } from '../eval/localize.js';
import { clipGeometry, type ClipGeometry } from '../eval/clip-geometry.js';
import { formatTable } from '../eval/results.js';
import { precisionTable, collapse, anchorExample, twinsFromWorld } from '../ssl/cma-measures.js';
import { diagnoseBanks, diagnosticsTables } from '../eval/cma-diagnostics.js';
import { appendDiagnostics } from '../report/cma-diagnostics-metric.js';
import { buildReport, extractThumbnail, linkIntoRun } from '../report/index.js';

export interface DemoOptions {
  /** The run directory (default runs/demo). */
  out: string;
  /** Epochs of Cross-AVID and of CMA. */
  crossEpochs?: number;
  cmaEpochs?: number;
  /** Short clips in the synthetic world. */
  videos?: number;
  seed?: number;
  configsDir?: string;
}

export interface DemoResult {
  runDir: string;
  reportPath: string;
  table: string;
}

const step = (n: number, total: number, what: string) => process.stderr.write(`\n[${n}/${total}] ${what}\n`);

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const started = Date.now();
  const runDir = path.resolve(o.out);
  ensureRunDir(runDir);
  writeVersions(runDir);
  const configsDir = o.configsDir ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../configs/cpu');
  const worldDir = path.join(runDir, 'world');
  const total = 6;

  step(1, total, `synthetic world → ${worldDir}`);
  if (!existsSync(path.join(worldDir, 'world.json'))) {
    const world = await generateWorld({ out: worldDir, videos: o.videos ?? 240, longVideos: 2, longSeconds: 30, seed: o.seed ?? 0 });
    process.stderr.write(`${world.videos.length} videos in ${world.elapsedSec.toFixed(1)} s\n`);
  } else process.stderr.write('already there\n');

  const common = [`data.source=${worldDir}`, `data.labels=${path.join(worldDir, 'labels.csv')}`, `runsDir=${runDir}`, `seed=${o.seed ?? 0}`];
  const cross = loadConfig(path.join(configsDir, 'cross-avid.yaml'), [...common, 'name=cross-avid', ...(o.crossEpochs ? [`train.epochs=${o.crossEpochs}`] : [])]);
  step(2, total, `Cross-AVID pre-training (${cross.train.epochs} epochs)`);
  const crossRun = await pretrain(cross, { existing: 'resume' });
  // CMA trains on the same videos: it reuses Cross-AVID's manifest (no second probing).
  const cma = loadConfig(path.join(configsDir, 'cma.yaml'), [...common, `data.source=${path.join(runDir, 'cross-avid', 'manifest.jsonl')}`, 'name=cma', `init=${crossRun.checkpoint}`, ...(o.cmaEpochs ? [`train.epochs=${o.cmaEpochs}`] : [])]);
  step(3, total, `CMA (${cma.train.epochs} epochs, from the Cross-AVID checkpoint)`);
  const cmaRun = await pretrain(cma, { existing: 'resume' });
  mergeRunFiles(runDir, [path.join(runDir, 'cross-avid'), path.join(runDir, 'cma')], { crossAvid: cross, cma });

  step(4, total, 'evaluation: features of held-out and training videos, linear probes, retrieval');
  const videos = (await readLabelledVideos(path.join(worldDir, 'labels.csv'))).filter((v) => v.path.includes(`${path.sep}clips${path.sep}`));
  const cmaArtifact = readRunArtifact(cmaRun.checkpoint, { withModel: false });
  const geometry = clipGeometry(cmaArtifact.config, cmaArtifact.audioStats);
  const clips = await decodeEvalClips(videos, geometry, { clipsPerVideo: 2, onProgress: (d, n) => d % 50 === 0 && process.stderr.write(`decoded ${d}/${n} clips\n`) });
  const evaluations: Record<string, AVEvaluation> = {};
  for (const [name, checkpoint] of [['random', `random:${crossRun.checkpoint}`], ['cross-avid', crossRun.checkpoint], ['cma', cmaRun.checkpoint]] as const) {
    const artifact = readRunArtifact(checkpoint, { seed: cma.seed + 1 });
    try {
      evaluations[name] = await evaluateAV(avModelOf(artifact, 'the demo'), videos, geometry, clips);
      process.stderr.write(`${name}: video@1 (conv5x) ${(100 * evaluations[name].probe.video.conv5x.video).toFixed(1)}%, audio@1 ${(100 * evaluations[name].probe.audio.conv5x.video).toFixed(1)}%\n`);
    } finally {
      disposeArtifact(artifact);
    }
  }
  writeEvaluationResults(runDir, evaluations, videos);
  await writeRetrievalExamples(runDir, evaluations.cma, evaluations.random);

  step(5, total, 'CMA diagnostics and sound localisation');
  const manifest = readManifest(path.join(runDir, 'cross-avid', 'manifest.jsonl'));
  await writeCmaResults(runDir, manifest.map((e) => e.path), manifest.map((e) => Number(e.label ?? -1)), crossRun.checkpoint, cmaRun.checkpoint, cma.objective.cma.positives, classNamesOf(videos));
  writeCmaDiagnostics(runDir, manifest, crossRun.checkpoint, cmaRun.checkpoint, cma.objective.cma.positives, JSON.parse(readFileSync(path.join(worldDir, 'world.json'), 'utf8')), [crossRun.epoch - 1, crossRun.epoch + cma.train.epochs - 1]);
  await writeLocalization(runDir, videos.filter((v) => v.split === 'test').slice(0, 12), cmaRun.checkpoint, geometry);

  step(6, total, 'report');
  const reportPath = await buildReport(runDir);
  const table = summaryTable(evaluations);
  writeFileSync(path.join(runDir, 'results.txt'), `${table}\n`);
  process.stderr.write(`demo finished in ${((Date.now() - started) / 60000).toFixed(1)} min\n`);
  return { runDir, reportPath, table };
}

/** One metrics.jsonl for the report: Cross-AVID's steps, then CMA's continuing the step count. */
function mergeRunFiles(runDir: string, phases: string[], configs: Record<string, unknown>): void {
  const merged: string[] = [];
  let offset = 0;
  let epochOffset = 0;
  phases.forEach((dir) => {
    let lastStep = 0;
    let lastEpoch = -1;
    for (const line of readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n')) {
      const r = JSON.parse(line);
      if (r.kind === 'train') {
        lastStep = r.step;
        r.step += offset;
      } else if (r.kind === 'resume') r.step += offset; // a phase interrupted and resumed: its seam, on the merged count
      lastEpoch = Math.max(lastEpoch, r.epoch);
      r.epoch += epochOffset;
      merged.push(JSON.stringify(r));
    }
    offset += lastStep;
    epochOffset += lastEpoch + 1;
  });
  writeFileSync(path.join(runDir, 'metrics.jsonl'), `${merged.join('\n')}\n`);
  writeJson(runDir, 'config.json', configs);
  // The first phase probed the files (later phases reuse its manifest): its summary has the rejects.
  const data = JSON.parse(readFileSync(path.join(phases[0], 'data.json'), 'utf8'));
  writeJson(runDir, 'data.json', data);
}

/** Class names by label id, from the labelled videos. */
function classNamesOf(videos: LabelledVideo[]): string[] {
  const names: string[] = [];
  for (const v of videos) names[v.label] = v.labelName;
  return Array.from(names, (c, i) => c ?? String(i));
}

function writeEvaluationResults(runDir: string, e: Record<string, AVEvaluation>, videos: LabelledVideo[]): void {
  const blocks: Record<string, { pretrained: number; random: number; [model: string]: number }> = {};
  for (const modality of ['video', 'audio'] as const) {
    for (const [block, scores] of Object.entries(e.cma.probe[modality])) {
      blocks[`${modality} ${block}`] = { pretrained: scores.video, random: e.random.probe[modality][block].video, 'Cross-AVID': e['cross-avid'].probe[modality][block].video };
    }
  }
  // The test videos' count gives the report its standard errors; the class names its chance line and labels.
  const tested = e.cma.testEmbeddings.videos;
  const classNames: string[] = [];
  for (const v of videos) classNames[v.label] = v.labelName;
  // Which classes each model confuses, on the last convolutional block of both encoders.
  const confusion = (['video', 'audio'] as const).flatMap((modality) =>
    ([['pretrained', 'cma'], ['Cross-AVID', 'cross-avid'], ['random', 'random']] as const).flatMap(([model, evaluation]) => {
      const counts = e[evaluation].probe[modality].conv5x?.confusion;
      return counts ? [{ model, block: `${modality} conv5x`, counts }] : [];
    }),
  );
  writeJson(runDir, 'results/probe.json', { protocol: 'linear probe per block on frozen features, synthetic world test split (CMA model vs random init)', metric: 'video@1', blocks, samples: tested.length, classes: Array.from(classNames, (c, i) => c ?? String(i)), pretrainedName: 'CMA', confusion });
  const rows: (string | number)[][] = [];
  for (const name of ['random', 'cross-avid', 'cma']) {
    const p = e[name].probe;
    rows.push([name, ...(['conv2x', 'conv3x', 'conv4x', 'conv5x', 'pool'] as const).map((b) => pct(p.video[b].video)), ...(['conv2x', 'conv3x', 'conv4x', 'conv5x', 'pool'] as const).map((b) => pct(p.audio[b].video)), pct(e[name].retrieval.v2a.recall[1]), pct(e[name].retrieval.a2v.recall[1])]);
  }
  writeJson(runDir, 'results/summary.json', [
    {
      title: 'Linear probe video@1 (%) per block, and retrieval R@1 (%), on held-out videos',
      columns: ['model', 'video conv2x', 'video conv3x', 'video conv4x', 'video conv5x', 'video pool', 'audio conv2x', 'audio conv3x', 'audio conv4x', 'audio conv5x', 'audio pool', 'v→a R@1', 'a→v R@1'],
      rows,
    },
  ]);
  writeJson(runDir, 'results/retrieval-scores.json', { cma: e.cma.retrieval, crossAvid: e['cross-avid'].retrieval, random: e.random.retrieval });
  const test = e.cma.testEmbeddings;
  writeJson(runDir, 'results/embeddings.json', {
    vectors: Array.from({ length: test.video.rows }, (_, i) => Array.from(test.video.data.subarray(i * test.video.cols, (i + 1) * test.video.cols))),
    labels: test.videos.map((v) => v.labelName),
    files: test.videos.map((v) => path.basename(v.path)),
    modality: 'video',
  });
  // data.json lists the manifest's label ids; the report shows class names.
  const data = JSON.parse(readFileSync(path.join(runDir, 'data.json'), 'utf8'));
  if (Array.isArray(data.classes)) writeJson(runDir, 'data.json', { ...data, classes: data.classes.map((id: string) => classNames[Number(id)] ?? id) });
}

const pct = (x: number) => Math.round(1000 * x) / 10;

async function writeRetrievalExamples(runDir: string, e: AVEvaluation, random: AVEvaluation): Promise<void> {
  const { video, audio, videos } = e.testEmbeddings;
  const examples = [];
  const rel = (v: LabelledVideo) => linkIntoRun(runDir, v.path, `media/${path.basename(v.path)}`);
  for (let q = 0; q < Math.min(4, videos.length); q++) {
    const sims = videos.map((_, j) => {
      let s = 0;
      for (let d = 0; d < video.cols; d++) s += video.data[q * video.cols + d] * audio.data[j * audio.cols + d];
      return { j, s };
    });
    sims.sort((a, b) => b.s - a.s);
    const poster = await extractThumbnail(videos[q].path, runDir, `thumbnails/query-${q}.jpg`, { seconds: 1, width: 192 });
    examples.push({ video: rel(videos[q]), poster, label: videos[q].labelName, matches: sims.slice(0, 3).map(({ j, s }) => ({ file: rel(videos[j]), similarity: s, correct: j === q, label: videos[j].labelName })) });
  }
  const scores = (r: AVEvaluation['retrieval']['v2a']) => ({ r1: r.recall[1], r5: r.recall[5], r10: r.recall[10], medianRank: r.medianRank });
  writeJson(runDir, 'results/retrieval.json', { v2a: scores(e.retrieval.v2a), a2v: scores(e.retrieval.a2v), random: { v2a: scores(random.retrieval.v2a), a2v: scores(random.retrieval.a2v) }, queries: e.retrieval.n, examples });
}

async function writeCmaResults(runDir: string, files: string[], labels: number[], crossCheckpoint: string, cmaCheckpoint: string, k: number, classNames?: string[]): Promise<void> {
  const before = readMemoryBanks(crossCheckpoint);
  const after = readMemoryBanks(cmaCheckpoint);
  try {
    const precision = precisionTable(before, labels, k);
    const collapseBefore = collapse(before);
    const collapseAfter = collapse(after);
    const thumb = async (i: number) => extractThumbnail(files[i], runDir, `thumbnails/${String(i).padStart(4, '0')}.jpg`, { seconds: 1, width: 96 });
    const examples = [];
    for (const anchor of [0, Math.floor(files.length / 3), Math.floor((2 * files.length) / 3)]) {
      const ex = anchorExample(before, anchor, 4);
      const name = (i: number) => (classNames?.[labels[i]] !== undefined ? { label: classNames[labels[i]] } : {});
      const neighbour = async (n: { index: number; videoSim: number; audioSim: number }) => ({ file: path.basename(files[n.index]), thumbnail: await thumb(n.index), videoSim: n.videoSim, audioSim: n.audioSim, ...name(n.index) });
      examples.push({
        anchor: { file: path.basename(files[anchor]), thumbnail: await thumb(anchor), ...name(anchor) },
        positives: await Promise.all(ex.positives.map(neighbour)),
        rejected: await Promise.all(ex.rejected.map(neighbour)),
      });
    }
    writeJson(runDir, 'results/cma.json', { k, anchors: files.length, precision, examples });
    writeJson(runDir, 'results/cma-collapse.json', [
      {
        title: 'Collapse: mean inner product of random memory-bank pairs',
        columns: ['memory bank', 'after Cross-AVID', 'after CMA'],
        rows: [
          ['video', round3(collapseBefore.video), round3(collapseAfter.video)],
          ['audio', round3(collapseBefore.audio), round3(collapseAfter.audio)],
        ],
      },
    ]);
  } finally {
    for (const t of [before.video, before.audio, after.video, after.audio]) t.dispose();
  }
}

const round3 = (x: number) => Math.round(1000 * x) / 1000;

/** Memory-bank diagnostics after each phase (memory probe, class separation, twin share): results and metrics. */
function writeCmaDiagnostics(runDir: string, manifest: ReturnType<typeof readManifest>, crossCheckpoint: string, cmaCheckpoint: string, k: number, world: Parameters<typeof twinsFromWorld>[0], epochs: number[]): void {
  const samples = manifest.map((e) => ({ label: Number(e.label ?? -1), fold: Number(e.fold ?? 1), group: String(e.group ?? e.index) }));
  const phases = [['after Cross-AVID', crossCheckpoint], ['after CMA', cmaCheckpoint]].map(([name, checkpoint], i) => {
    const banks = readMemoryBanks(checkpoint);
    try {
      const d = diagnoseBanks(banks, samples, { k, twinOf: twinsFromWorld(world) });
      appendDiagnostics(runDir, epochs[i], d, name);
      return { name, d };
    } finally {
      banks.video.dispose();
      banks.audio.dispose();
    }
  });
  writeJson(runDir, 'results/cma-diagnostics.json', diagnosticsTables(phases));
}

async function writeLocalization(runDir: string, videos: LabelledVideo[], checkpoint: string, geometry: ClipGeometry): Promise<void> {
  // Random initialisations' Grad-CAM maps differ a lot from seed to seed (box scores 10-60%): the baseline is their mean.
  const randomSeeds = [0, 1, 2, 3];
  const score: Record<string, number> = {};
  const frames: ({ image: string; caption: string } & ReturnType<typeof localizationFrame>)[] = [];
  const overlayVideos: { video: string; caption: string; poster?: string }[] = [];
  const clips = await Promise.all(videos.map((v) => decodeLocalizationClip(v.path, geometry)));
  for (const [name, source, seeds] of [['trained', checkpoint, [1]], ['random', `random:${checkpoint}`, randomSeeds]] as const) {
    const rates: number[] = [];
    for (const seed of seeds) {
      const artifact = readRunArtifact(source, { seed });
      const model = avModelOf(artifact, 'localisation');
      try {
        for (const [i, v] of videos.entries()) {
          const outDir = name === 'trained' && i < 2 ? path.join(runDir, 'localization') : undefined;
          const r = await localizeClip(model, v.path, geometry, { outDir, decoded: clips[i] });
          if (r.boxHitRate !== null) rates.push(r.boxHitRate);
          if (outDir) r.frames.forEach((f, t) => frames.push({ image: path.relative(runDir, f), caption: `${v.labelName}, frame ${t}`, ...localizationFrame(r, t) }));
          if (outDir && r.video) overlayVideos.push({ video: path.relative(runDir, r.video), caption: `${v.labelName} (${path.basename(v.path)})`, ...(r.frames[0] ? { poster: path.relative(runDir, r.frames[0]) } : {}) });
        }
      } finally {
        disposeArtifact(artifact);
      }
    }
    score[name] = rates.reduce((a, b) => a + b, 0) / Math.max(rates.length, 1);
  }
  writeJson(runDir, 'results/localization.json', { score: { trained: score.trained, random: score.random }, randomSeeds, frames, videos: overlayVideos, colormap: 'jet' });
}

function summaryTable(e: Record<string, AVEvaluation>): string {
  const rows = ['random', 'cross-avid', 'cma'].map((name) => [
    name,
    pct(e[name].probe.video.conv5x.video),
    pct(e[name].probe.video[bestBlock(e[name].probe.video) ?? 'conv5x'].video),
    pct(e[name].probe.audio.conv5x.video),
    pct(e[name].probe.audio[bestBlock(e[name].probe.audio) ?? 'conv5x'].video),
    pct(e[name].retrieval.v2a.recall[1]),
    pct(e[name].retrieval.a2v.recall[1]),
  ]);
  return formatTable(['model', 'video conv5x %', 'video best % (block chosen on validation)', 'audio conv5x %', 'audio best %', 'v→a R@1 %', 'a→v R@1 %'], rows);
}

