// avid cma-diagnose <run dir> | --checkpoint <file> --manifest <jsonl>: the CMA diagnostics of a run's memory
// banks (precision@K of each agreement kind, twin-class share, class separation per bank, linear probe of
// the memory representations, collapse), printed and appended to the run's metrics.jsonl.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as T from '../../tensor/index.js';
import { readManifest } from '../../data/manifest.js';
import { formatTable, writeResultsJson } from '../../eval/results.js';
import { parseFlags, positiveInt, nameList } from '../flags.js';
import { resultsDestination } from '../results-destination.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { readMemoryBanks, readRunArtifact } from '../../train/run-artifact.js';
import { diagnosticsTables, diagnoseBanks, type BankSample } from '../../eval/cma-diagnostics.js';
import { twinsFromWorld, AGREEMENT_KINDS, COMBINED_KINDS, type PositiveBreakdown } from '../../ssl/cma-measures.js';
import { appendDiagnostics } from '../../report/cma-diagnostics-metric.js';
import type { ScoreNormalisation } from '../../ssl/cma-mining.js';

export const summary = 'CMA diagnostics of a run\'s memory banks: precision@K per agreement kind, class separation, memory probe, collapse';

const usage = `usage: avid cma-diagnose <run dir> [--k 8] [--normalise zscore,rank] [--phase <name>] [--no-probe] [--no-append] [--threads N]
       avid cma-diagnose --checkpoint <run|file> [--manifest <manifest.jsonl>] [--world <world.json>] [--out <results.json>] [...]

For the memory banks of an AVID or CMA checkpoint (a run's checkpoints/last.safetensors), against the labels
of the manifest the run trained on (row i of the banks is manifest entry i):
  - precision@K of the top-K positives mined by agreement (min), union (max), video-only and audio-only
    similarity, and the share of positives from the anchor's confusable twin class (synthetic world);
  - with --normalise (a comma list of zscore, rank, none), agreement and union again with each modality's
    similarities normalised per anchor row before the min / max: z-scores over the row, or rank percentiles
    (raw min is ruled by the bank whose cosines run lower; this puts both on one scale);
  - class separation of each bank: mean cosine within a class, with the twin class, with other classes;
  - a linear probe of the memory representations (video, audio, both), 5-fold over the manifest's folds;
  - the collapse measure (mean inner product of random pairs) of each bank;
  - how much the banks say the same thing: the share of an anchor's video-only top-K also in its audio-only
    top-K, and the mean correlation of vᵢ·vⱼ with aᵢ·aⱼ (agreement can only differ where the banks disagree).
For a run (its directory, or a checkpoint in its checkpoints/) the tables go to <run>/results/cma-diagnostics.json
and the record is appended to <run>/metrics.jsonl (an 'epoch' record with cmaDiagnostics=<phase>), so that
'avid report' shows them; --out <file> writes the diagnostics there instead (required outside a run). The
manifest is the run's (data.json), or --manifest; twins come from the world.json beside the run's labels
CSV (data.labels in its config), or --world.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      checkpoint: { type: 'string' },
      manifest: { type: 'string' },
      world: { type: 'string' },
      k: { type: 'string', default: '8' },
      phase: { type: 'string' },
      'no-probe': { type: 'boolean', default: false },
      'no-append': { type: 'boolean', default: false },
      threads: { type: 'string' },
      normalise: { type: 'string', default: 'none' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    { positionals: true },
  );
  if (values.help || (positionals.length !== 1 && !values.checkpoint)) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  if (values.threads) T.setNumThreads(positiveInt(values.threads, '--threads'));
  if (positionals[0] && values.checkpoint) throw new Error('cma-diagnose: give a run directory or --checkpoint, not both');
  // The run (or checkpoint) says where its manifest, labels and world are; --manifest/--world override.
  const input = positionals[0] ?? values.checkpoint!;
  const artifact = readRunArtifact(input, { withModel: false });
  const checkpoint = artifact.checkpoint!;
  const runDir = artifact.runDir;
  const data = runDir && existsSync(path.join(runDir, 'data.json')) ? (JSON.parse(readFileSync(path.join(runDir, 'data.json'), 'utf8')) as { manifest?: string }) : {};
  const manifest = values.manifest ?? data.manifest ?? artifact.config.data.source;
  const labels = artifact.config.data.labels;
  const world = values.world ?? (labels ? path.join(path.dirname(labels), 'world.json') : undefined);
  const epoch = Math.max(0, artifact.config.train.epochs - 1);
  const destination = resultsDestination(input, values.out);
  if (!manifest || !manifest.endsWith('.jsonl') || !existsSync(manifest)) throw new Error(`cma-diagnose: manifest not found (need a .jsonl manifest): ${manifest}`);
  const k = positiveInt(values.k, '--k');
  const normalisations = nameList(values.normalise, '--normalise', ['none', 'zscore', 'rank'] as const);
  const samples: BankSample[] = readManifest(manifest).map((e) => ({ label: e.label === undefined ? -1 : Number(e.label), fold: Number(e.fold ?? 1), group: String(e.group ?? e.index) }));
  if (samples.some((s) => !Number.isInteger(s.label))) throw new Error(`cma-diagnose: ${manifest} has labels that are not class ids`);
  const twinOf = world && existsSync(world) ? twinsFromWorld(JSON.parse(readFileSync(world, 'utf8'))) : {};

  const banks = readMemoryBanks(checkpoint);
  try {
    if (banks.video.size(0) !== samples.length) throw new Error(`cma-diagnose: the banks have ${banks.video.size(0)} rows but ${manifest} has ${samples.length} entries`);
    const d = diagnoseBanks(banks, samples, { k, twinOf, probe: !values['no-probe'], normalisations: normalisations as ScoreNormalisation[] });
    const f = (x: number) => x.toFixed(3);
    console.log(`${checkpoint}: ${d.n} labelled instances, K = ${k}, chance ${f(chance(samples))}`);
    const row = (name: string, p: PositiveBreakdown) => [name, `${f(p.precision)} ± ${f(p.stdErr)}`, f(p.twin), f(p.other), Object.values(p.perClass).map((x) => x.toFixed(2)).join(' ')];
    const normalisedRows = Object.entries(d.normalised).flatMap(([how, byKind]) => COMBINED_KINDS.map((kind) => row(`${kind} (${how})`, byKind[kind])));
    console.log(formatTable(['positives by', `precision@${k}`, 'twin class', 'other classes', 'per class'], [...AGREEMENT_KINDS.map((kind) => row(kind, d.positives[kind])), ...normalisedRows]));
    console.log(formatTable(['bank', 'within class', 'twin class', 'other classes', 'collapse', 'memory probe'], (['video', 'audio'] as const).map((m) => [m, f(d.separation[m].within), f(d.separation[m].twin), f(d.separation[m].other), f(d.collapse[m]), d.probe ? f(d.probe[m]) : '-'])));
    if (d.probe) console.log(`memory probe, both banks concatenated: ${f(d.probe.both)}`);
    console.log(`banks agree: video-only and audio-only top-${k} share ${f(d.agreement.overlap)} of their positives; similarity correlation ${f(d.agreement.correlation)}`);
    const phase = values.phase ?? path.basename(path.resolve(runDir ?? checkpoint));
    if (destination.out) {
      writeResultsJson(destination.out, { checkpoint, manifest, k, phase, diagnostics: d });
      console.log(`results: ${destination.out}`);
    } else {
      const file = path.join(destination.runDir!, 'results', 'cma-diagnostics.json');
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileAtomic(file, `${JSON.stringify(diagnosticsTables([{ name: phase, d }]), null, 2)}\n`);
      console.log(`results: ${file}`);
      if (!values['no-append']) {
        appendDiagnostics(destination.runDir!, epoch, d, phase);
        console.log(`appended to ${path.join(destination.runDir!, 'metrics.jsonl')}`);
      }
    }
  } finally {
    banks.video.dispose();
    banks.audio.dispose();
  }
  return 0;
}

/** Precision of K random positives: the chance that another labelled instance shares the anchor's label. */
function chance(samples: BankSample[]): number {
  const counts = new Map<number, number>();
  for (const s of samples) if (s.label >= 0) counts.set(s.label, (counts.get(s.label) ?? 0) + 1);
  const n = [...counts.values()].reduce((a, b) => a + b, 0);
  return [...counts.values()].reduce((a, c) => a + (c * (c - 1)) / (n - 1), 0) / n;
}
