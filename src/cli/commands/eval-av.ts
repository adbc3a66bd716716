// avid eval-av --checkpoint <file|random:<file>> --labels <csv> [--clips 2]
import { parseArgs } from 'node:util';
import { readRunArtifact, avModelOf, disposeArtifact } from '../../train/run-artifact.js';
import { readLabelledVideos, evaluateAV } from '../../eval/av-evaluation.js';
import { decodeEvalClips } from '../../eval/av-features.js';
import { clipGeometry } from '../../eval/clip-geometry.js';
import { formatTable, writeResultsJson } from '../../eval/results.js';

export const summary = 'evaluate an audio-visual model on labelled videos: per-block linear probes and retrieval';

const usage = `usage: avid eval-av --checkpoint <file|random:<file>> --labels <labels.csv> [--clips 2] [--out results.json]

Linear probes (video@1) on every block of both frozen encoders, trained on the labels CSV's 'train' videos and
scored on its 'test' videos (or fold 1 without a split column), and cross-modal retrieval (R@1/5/10, median
rank) among the test videos. 'random:<file>' evaluates a randomly initialised network of <file>'s
architecture with its clip geometry and spectrogram statistics: the baseline.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      checkpoint: { type: 'string' },
      labels: { type: 'string' },
      clips: { type: 'string', default: '2' },
      out: { type: 'string' },
      seed: { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.checkpoint || !values.labels) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const artifact = readRunArtifact(values.checkpoint, { seed: Number(values.seed) });
  try {
    const model = avModelOf(artifact, 'eval-av');
    const videos = await readLabelledVideos(values.labels);
    const geometry = clipGeometry(artifact.config, artifact.audioStats);
    const clips = await decodeEvalClips(videos, geometry, { clipsPerVideo: Number(values.clips) });
    const e = await evaluateAV(model, videos, geometry, clips);
    const pct = (x: number) => (100 * x).toFixed(1);
    const blocks = Object.keys(e.probe.video);
    console.log(formatTable(['encoder', ...blocks], [['video', ...blocks.map((b) => pct(e.probe.video[b].video))], ['audio', ...blocks.map((b) => pct(e.probe.audio[b]?.video ?? NaN))]]));
    console.log(`retrieval on ${e.retrieval.n} test videos: v→a R@1 ${pct(e.retrieval.v2a.recall[1])}% R@5 ${pct(e.retrieval.v2a.recall[5])}% median rank ${e.retrieval.v2a.medianRank}; a→v R@1 ${pct(e.retrieval.a2v.recall[1])}% R@5 ${pct(e.retrieval.a2v.recall[5])}%`);
    if (values.out) writeResultsJson(values.out, { checkpoint: values.checkpoint, probe: e.probe, retrieval: e.retrieval });
  } finally {
    disposeArtifact(artifact);
  }
  return 0;
}
