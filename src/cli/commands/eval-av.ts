// avid eval-av --checkpoint <run|file|random:<file>> --labels <csv> [--clips 10] [--out results.json]
import path from 'node:path';
import { readRunArtifact, avModelOf, disposeArtifact } from '../../train/run-artifact.js';
import { readLabelledVideos, evaluateAV, bestBlock, type AVEvaluation } from '../../eval/av-evaluation.js';
import { decodeEvalClips } from '../../eval/av-features.js';
import { clipGeometryWithStatsFile } from '../../eval/audio-stats-file.js';
import { formatTable, writeResultsJson } from '../../eval/results.js';
import type { RetrievalScores } from '../../eval/retrieval.js';
import { parseFlags, positiveInt, seed as seedFlag, checkpointFlag, frontendFlag, CHECKPOINT_HELP, FRONTEND_FLAGS, FRONTEND_HELP, AUDIO_STATS_FLAGS, AUDIO_STATS_HELP } from '../flags.js';
import { resultsDestination, writeRunResult } from '../results-destination.js';
import { PROBE_FLAGS, PROBE_HELP, probeSettingsFlag } from '../probe-flags.js';

export const summary = 'evaluate an audio-visual model on labelled videos: per-block linear probes and retrieval';

const usage = `usage: avid eval-av --checkpoint <run|file|random:<file>> --labels <labels.csv> [--clips 10] [--seed 1] [--probe fixed|reference] [--out results.json]

Linear probes (video@1) on every block of both frozen encoders, trained on the labels CSV's 'train' videos and
scored on its 'test' videos (or fold 1 without a split column), and cross-modal retrieval (R@1/5/10, median
rank) among the test videos; the same for a randomly initialised network of the same architecture (seeded
by --seed), the baseline. 'random:<file>' evaluates only that baseline. --clips: uniformly spaced clips per
video whose predictions are averaged (video@1), 10 as in the papers (25 in some of their tables).
Results go into the run's results/ (probe.json, retrieval.json: the report's probe and retrieval sections)
or, with --out, into one JSON file (required for a checkpoint outside a run).

${CHECKPOINT_HELP}
${PROBE_HELP}
${FRONTEND_HELP}
${AUDIO_STATS_HELP}`;

const options = {
  checkpoint: { type: 'string' },
  labels: { type: 'string' },
  clips: { type: 'string', default: '10' },
  out: { type: 'string' },
  seed: { type: 'string', default: '1' },
  ...PROBE_FLAGS,
  ...FRONTEND_FLAGS,
  ...AUDIO_STATS_FLAGS,
  help: { type: 'boolean', default: false },
} as const;

const pct = (x: number) => (100 * x).toFixed(1);
const scores = (r: RetrievalScores) => ({ r1: r.recall[1], r5: r.recall[5], r10: r.recall[10], medianRank: r.medianRank });

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, options);
  if (values.help || !values.checkpoint || !values.labels) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const { input } = checkpointFlag(values);
  const frontend = frontendFlag(values);
  const destination = resultsDestination(input, values.out);
  const seed = seedFlag(values.seed);
  const clipsPerVideo = positiveInt(values.clips, '--clips');
  const probe = probeSettingsFlag(values);
  const videos = await readLabelledVideos(values.labels);
  // The trained network and its random baseline, decoded once in the trained network's geometry.
  const inputs = input.startsWith('random') ? [input] : [input, `random:${input}`];
  const evaluations: AVEvaluation[] = [];
  let clips: Awaited<ReturnType<typeof decodeEvalClips>> | null = null;
  for (const which of inputs) {
    const artifact = readRunArtifact(which, { seed });
    try {
      // --audio-stats normalises the trained network's input and its baseline's alike.
      const geometry = clipGeometryWithStatsFile(artifact.config, artifact.audioStats, frontend, values['audio-stats']);
      clips ??= await decodeEvalClips(videos, geometry, { clipsPerVideo });
      evaluations.push(await evaluateAV(avModelOf(artifact, 'eval-av'), videos, geometry, clips, { probe }));
    } finally {
      disposeArtifact(artifact);
    }
  }
  const [e, baseline] = evaluations;
  const blocks = Object.keys(e.probe.video);
  const rows = evaluations.flatMap((x, i) => {
    const name = i === 0 && inputs.length > 1 ? '' : ' (random init)';
    return [[`video${name}`, ...blocks.map((b) => pct(x.probe.video[b].video)), bestBlock(x.probe.video) ?? '-'], [`audio${name}`, ...blocks.map((b) => pct(x.probe.audio[b]?.video ?? NaN)), bestBlock(x.probe.audio) ?? '-']];
  });
  console.log(formatTable(['encoder', ...blocks, 'best on validation'], rows));
  console.log(`retrieval on ${e.retrieval.n} test videos: v→a R@1 ${pct(e.retrieval.v2a.recall[1])}% R@5 ${pct(e.retrieval.v2a.recall[5])}% median rank ${e.retrieval.v2a.medianRank}; a→v R@1 ${pct(e.retrieval.a2v.recall[1])}% R@5 ${pct(e.retrieval.a2v.recall[5])}%`);
  if (destination.out) {
    writeResultsJson(destination.out, { checkpoint: input, probeSettings: probe, ...(values['audio-stats'] ? { audioStats: path.resolve(values['audio-stats']) } : {}), probe: e.probe, retrieval: e.retrieval, ...(baseline ? { random: { probe: baseline.probe, retrieval: baseline.retrieval } } : {}) });
    console.log(`results: ${destination.out}`);
    return 0;
  }
  const probeBlocks: Record<string, { pretrained: number; random: number }> = {};
  // Confusion counts of the block each encoder would be reported on (best on validation), for both models.
  const confusion: { model: string; block: string; counts: number[][] }[] = [];
  for (const modality of ['video', 'audio'] as const) {
    for (const [block, s] of Object.entries(e.probe[modality])) probeBlocks[`${modality} ${block}`] = { pretrained: s.video, random: baseline.probe[modality][block].video };
    const chosen = bestBlock(e.probe[modality]);
    if (chosen === null) continue;
    for (const [model, x] of [['pretrained', e], ['random', baseline]] as const) {
      const counts = x.probe[modality][chosen]?.confusion;
      if (counts) confusion.push({ model, block: `${modality} ${chosen}`, counts });
    }
  }
  const testVideos = videos.filter((v) => v.split === 'test').length;
  const classes: string[] = [];
  for (const v of videos) classes[v.label] = v.labelName;
  const written = [
    writeRunResult(destination, 'results/probe.json', {
      protocol: `linear probe per block on frozen features (${probe.recipe} recipe), ${values.labels} train → test split (trained vs random init, seed ${seed})`,
      metric: 'video@1',
      blocks: probeBlocks,
      samples: testVideos,
      classes: Array.from(classes, (c, i) => c ?? String(i)),
      confusion,
    }),
    writeRunResult(destination, 'results/retrieval.json', {
      v2a: scores(e.retrieval.v2a),
      a2v: scores(e.retrieval.a2v),
      random: { v2a: scores(baseline.retrieval.v2a), a2v: scores(baseline.retrieval.a2v) },
      examples: [],
    }),
  ];
  console.log(`results: ${written.join(', ')}`);
  return 0;
}
