// Downstream accuracy against pre-training epochs (the AVTS supplement's Figure 1): every checkpoint a run
// kept (train.keepCheckpoints: checkpoints/epoch-<N>.safetensors, epoch 0 = its initial weights) and a random
// initialisation of the same architecture (`random:<run>`), all evaluated with one protocol and one settings,
// into <run>/results/by-epoch.json (the report draws it). The file is rewritten after every evaluation, so an
// interrupted analysis resumes where it stopped: an entry is reused when its settings and its checkpoint file
// (size, modification time) are unchanged. A file measured with other settings is refused, never mixed in.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isRunDir } from '../train/run-artifact.js';
import { keptCheckpointPath } from '../train/kept-checkpoints.js';
import { RUN_FILES, ByEpochResultsSchema, parseRunJson, writeRunJson, type ByEpochResults } from '../report/run-files.js';
import { ProtocolEvaluator, describeProtocol, settingsDifference, weightsIdentity, type ProtocolRuntime, type ProtocolSettings } from './protocol.js';
import { StageEta } from './stage-eta.js';

/** The epochs of a run's kept checkpoints (checkpoints/epoch-<N>.safetensors), ascending. */
export function keptEpochs(runDir: string): number[] {
  const dir = path.join(runDir, 'checkpoints');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => /^epoch-(\d+)\.safetensors$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The stored results, checked: an error names the file and the settings that differ from `settings`. */
export function readByEpoch(runDir: string, settings: ProtocolSettings): ByEpochResults | null {
  const file = path.join(runDir, RUN_FILES.byEpoch);
  if (!existsSync(file)) return null;
  const stored = parseRunJson(RUN_FILES.byEpoch, readFileSync(file, 'utf8'), ByEpochResultsSchema);
  const entries = [...stored.epochs, ...(stored.randomInit ? [stored.randomInit] : [])];
  for (const s of [stored.settings, ...entries.map((e) => e.settings)]) {
    const differ = settingsDifference(s, settings);
    if (differ.length) {
      throw new Error(
        `${file} holds results measured with other evaluation settings (${differ.join('; ')}): they would not be comparable. ` +
          `Evaluate with the same settings, or move that file aside to start a new curve.`,
      );
    }
  }
  return stored;
}

export interface EpochAnalysisOptions extends ProtocolRuntime {
  /** Evaluate only these kept epochs (default every kept one); results already there for others stay. */
  epochs?: number[];
  /** Also evaluate a random initialisation of the run's architecture (default true). */
  randomInit?: boolean;
  /** Progress lines (default stderr). */
  progress?: (line: string) => void;
}

/**
 * Evaluates every kept checkpoint of `runDir` and a random init of its architecture; writes and returns
 * results/by-epoch.json.
 */
export async function runEpochAnalysis(runDir: string, settings: ProtocolSettings, o: EpochAnalysisOptions = {}): Promise<ByEpochResults> {
  const dir = path.resolve(runDir);
  if (!isRunDir(dir)) throw new Error(`${runDir}: not a run directory (no config.json)`);
  const epochs = keptEpochs(dir);
  if (epochs.length === 0) {
    throw new Error(`${runDir}: no kept checkpoints (checkpoints/epoch-<N>.safetensors): train it with train.keepCheckpoints, e.g. --set 'train.keepCheckpoints={every: 5}'`);
  }
  const missing = (o.epochs ?? []).filter((e) => !epochs.includes(e));
  if (missing.length) throw new Error(`${runDir}: no kept checkpoint for epoch(s) ${missing.join(', ')} (kept: ${epochs.join(', ')})`);
  const stored = readByEpoch(dir, settings);
  const results: ByEpochResults = { protocol: settings.protocol, metric: describeProtocol(settings), settings, randomInit: null, epochs: [] };
  const evaluator = new ProtocolEvaluator(settings, o);
  const eta = new StageEta('ablate-epochs', o.progress);
  const write = () => {
    results.epochs.sort((a, b) => a.epoch - b.epoch);
    writeRunJson(dir, RUN_FILES.byEpoch, results);
  };

  const randomInput = `random:${dir}`;
  type Job = { epoch: number | null; input: string; identity: Record<string, unknown> };
  const jobs: Job[] = [];
  {
    const identity = weightsIdentity(randomInput, settings.seed);
    const old = stored?.randomInit;
    if (old && sameJson(old.identity, identity)) results.randomInit = old;
    else if (o.randomInit ?? true) jobs.push({ epoch: null, input: randomInput, identity });
  }
  for (const epoch of epochs) {
    const file = keptCheckpointPath(dir, epoch);
    const identity = weightsIdentity(file, settings.seed);
    const old = stored?.epochs.find((e) => e.epoch === epoch);
    if (old && sameJson(old.identity, identity)) results.epochs.push(old);
    else if (!o.epochs || o.epochs.includes(epoch)) jobs.push({ epoch, input: file, identity });
  }
  const reused = results.epochs.length + (results.randomInit ? 1 : 0);
  (o.progress ?? ((l: string) => process.stderr.write(`${l}\n`)))(
    `ablate-epochs: ${epochs.length} kept checkpoint(s) (epochs ${epochs.join(', ')})${o.randomInit ?? true ? ' + random init' : ''}; ${reused} evaluation(s) reused, ${jobs.length} to run`,
  );
  for (const _ of jobs) eta.plan('evaluation');
  for (const job of jobs) {
    const what = job.epoch === null ? 'random init' : `epoch ${job.epoch}`;
    const score = await eta.run('evaluation', 1, `${what}`, () => evaluator.evaluate(job.input));
    if (job.epoch === null) results.randomInit = { input: job.input, identity: job.identity, settings, ...score };
    else results.epochs.push({ epoch: job.epoch, checkpoint: path.relative(dir, job.input), identity: job.identity, settings, ...score });
    write();
  }
  if (jobs.length === 0) write();
  return results;
}
