// Progress of an analysis made of long stages of different kinds (training runs, evaluations), with an ETA.
// Each kind has its own rate: training's seconds per update, evaluation's seconds per evaluation. A remaining
// stage is estimated by its kind's measured rate; a kind not yet measured borrows nothing and makes the ETA a
// lower bound ("≥"), which is what it is. Stages found finished on resume are never counted as work done now.
import { formatDuration } from '../train/progress.js';

interface Kind {
  /** Work units planned (updates for training, 1 per evaluation). */
  planned: number;
  done: number;
  seconds: number;
}

export class StageEta {
  private readonly kinds = new Map<string, Kind>();
  private stagesPlanned = 0;
  private stagesDone = 0;

  constructor(
    private readonly label: string,
    private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  /** A stage that is still to run: `units` of `kind` (e.g. 'training', 640 updates). */
  plan(kind: string, units = 1): void {
    const k = this.kinds.get(kind) ?? { planned: 0, done: 0, seconds: 0 };
    k.planned += units;
    this.kinds.set(kind, k);
    this.stagesPlanned++;
  }

  /** Runs one planned stage, timing it, and prints where the analysis stands. */
  async run<T>(kind: string, units: number, what: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const result = await work();
    const k = this.kinds.get(kind);
    if (!k) throw new Error(`StageEta: stage kind '${kind}' was never planned`);
    k.done += units;
    k.seconds += (performance.now() - started) / 1000;
    this.stagesDone++;
    this.write(`${this.label}: ${this.stagesDone}/${this.stagesPlanned} stages done (${what}, ${formatDuration((performance.now() - started) / 1000)}); ETA ${this.eta()}`);
    return result;
  }

  /** The estimated time left, '≥' when some kind has no measured rate yet. */
  eta(): string {
    let seconds = 0;
    let unmeasured = false;
    for (const k of this.kinds.values()) {
      const left = k.planned - k.done;
      if (left <= 0) continue;
      if (k.done === 0) unmeasured = true;
      else seconds += (k.seconds / k.done) * left;
    }
    if (unmeasured && seconds === 0) return 'unknown until a stage of each kind has finished';
    return `${unmeasured ? '≥ ' : ''}${formatDuration(seconds)}`;
  }
}
