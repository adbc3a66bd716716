// Training curves from metrics.jsonl: loss (with any loss terms), learning rate and throughput against step,
// epoch boundaries marked, one small plot per other logged number, and the per-epoch records as a table.
import { formatNumber, html, type SafeHtml } from '../html.js';
import type { RunInputs } from '../load-run.js';
import type { EpochMetric, TrainMetric } from '../run-files.js';
import { table, unavailableSection, type Section } from '../section.js';
import { linePlot, type LineSeries } from '../svg-plot.js';
import { curveFigure } from '../curve-figure.js';
import { stageMarkers } from '../stages.js';

const BASE_FIELDS = new Set(['kind', 'step', 'epoch', 'loss', 'lr', 'clipsPerSec', 'time']);
const MAX_EXTRA_PLOTS = 8;
/** Extra fields drawn with the loss: any name with "loss", or one of the objectives' terms (NCE directions, wMPD, AVTS). */
const LOSS_TERM = /loss|^(v2a|a2v|v2v|a2a|nce|wmpd|cma|avts|sync|xid|self|cross|joint)([._-]|$)/i;

function series(records: TrainMetric[], field: string, name = field): LineSeries {
  const points: Array<[number, number]> = [];
  for (const r of records) if (typeof r[field] === 'number') points.push([r.step, r[field]]);
  return { name, points };
}

/** The first step of every epoch after the first: where the curves' vertical markers go. */
function epochStarts(records: TrainMetric[]): Array<{ x: number; label: string }> {
  const markers: Array<{ x: number; label: string }> = [];
  for (let i = 1; i < records.length; i++)
    if (records[i].epoch !== records[i - 1].epoch) markers.push({ x: records[i].step, label: `epoch ${records[i].epoch} starts` });
  return markers;
}

/** One record per step, sorted: a resumed run logs again the steps after its last checkpoint, and the later lines count. */
export function latestPerStep(train: TrainMetric[]): TrainMetric[] {
  const byStep = new Map<number, TrainMetric>();
  for (const record of train) byStep.set(record.step, record);
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(2)} h`;
}

/** Process internals: useful when chasing a leak, noise to a reader of results; shown folded. */
const INTERNAL_FIELDS = new Set(['liveTensors', 'rssMB', 'heapMB']);

function cellValue(v: EpochMetric[string] | undefined): string | null {
  return typeof v === 'number' ? formatNumber(v, 4) : v === null || v === undefined ? null : String(v);
}

function columnsOf(records: EpochMetric[], keep: (key: string) => boolean): string[] {
  const columns: string[] = [];
  for (const e of records) for (const key of Object.keys(e)) if (key !== 'kind' && keep(key) && !columns.includes(key)) columns.push(key);
  return columns;
}

/**
 * The epoch records as a reader wants them: one narrow table of the epochs (loss, steps, ...), the
 * diagnostics records (an epoch record naming its phase in a string field, e.g. cmaDiagnostics) as their
 * own table with one column per record and one row per measure, and process internals folded away.
 */
function epochTables(epochs: EpochMetric[]): SafeHtml {
  // A diagnostics record names its phase in a string field and shares none of the keys most epoch records have.
  const frequency = new Map<string, number>();
  for (const e of epochs) for (const k of Object.keys(e)) frequency.set(k, (frequency.get(k) ?? 0) + 1);
  const common = [...frequency].filter(([k, n]) => k !== 'kind' && k !== 'epoch' && n >= epochs.length / 2).map(([k]) => k);
  const isDiagnostic = (e: EpochMetric) => Object.entries(e).some(([k, v]) => k !== 'kind' && typeof v === 'string') && !common.some((k) => k in e);
  const plain = epochs.filter((e) => !isDiagnostic(e));
  const diagnostics = epochs.filter(isDiagnostic);
  const parts: SafeHtml[] = [];
  if (plain.length) {
    const columns = columnsOf(plain, (k) => !INTERNAL_FIELDS.has(k));
    parts.push(html`<h3>Per-epoch records</h3><div class="table-scroll">${table(columns, plain.map((e) => columns.map((c) => cellValue(e[c]))), 'epochs')}</div>`);
    const internals = columnsOf(plain, (k) => k === 'epoch' || INTERNAL_FIELDS.has(k));
    if (internals.length > 1)
      parts.push(html`<details class="internals"><summary>Process internals per epoch (${internals.filter((c) => c !== 'epoch').join(', ')})</summary><div class="table-scroll">${table(internals, plain.map((e) => internals.map((c) => cellValue(e[c]))), 'internals')}</div></details>`);
  }
  if (diagnostics.length) {
    const label = (e: EpochMetric) => `${Object.entries(e).filter(([k, v]) => k !== 'kind' && typeof v === 'string').map(([, v]) => v).join(', ')} (epoch ${e.epoch})`;
    const measures = columnsOf(diagnostics, (k) => k !== 'epoch' && !diagnostics.some((e) => typeof e[k] === 'string'));
    parts.push(html`<h3>Diagnostics logged during training</h3><div class="table-scroll">${table(['measure', ...diagnostics.map(label)], measures.map((m) => [m, ...diagnostics.map((e) => cellValue(e[m]))]), 'diagnostics')}</div>`);
  }
  return html`${parts}`;
}

export function trainingSection(run: RunInputs): Section {
  const id = 'training';
  const title = 'Training curves';
  const unavailable = unavailableSection(id, title, run.metrics);
  if (unavailable || run.metrics.status !== 'ok') return unavailable!;
  const { train, epochs, problems } = run.metrics.value;
  const notes = problems.length
    ? html`<details class="problems"><summary>${problems.length} line(s) of metrics.jsonl skipped</summary><ul>${problems
        .slice(0, 50)
        .map((p) => html`<li>${p}</li>`)}</ul></details>`
    : html``;
  if (train.length === 0) {
    return {
      id,
      title,
      status: 'missing',
      body: html`<p class="not-available">Not available for this run (metrics.jsonl has no training steps; written by <code>avid pretrain</code>).</p>${epochs.length ? epochTables(epochs) : ''}${notes}`,
    };
  }
  const records = latestPerStep(train);
  const relogged = train.length - records.length;
  const markers = epochStarts(records);
  const stages = stageMarkers(run.config.status === 'ok' ? run.config.value : null, records).map((m) => ({ x: m.step, label: m.label }));
  const extraFields: string[] = [];
  for (const r of records) for (const key of Object.keys(r)) if (!BASE_FIELDS.has(key) && !extraFields.includes(key)) extraFields.push(key);
  const lossTerms = extraFields.filter((f) => LOSS_TERM.test(f));
  const others = extraFields.filter((f) => !LOSS_TERM.test(f));

  const plots = [
    curveFigure(
      { title: 'Loss', xLabel: 'step', yLabel: 'loss', series: [series(records, 'loss', 'loss'), ...lossTerms.map((f) => series(records, f))], markers, stages },
      `Training loss${lossTerms.length ? ` and its terms (${lossTerms.join(', ')})` : ''} against step; dotted lines start epochs${stages.length ? ', solid lines mark a change of stage' : ''}.`,
    ),
    linePlot({ title: 'Learning rate', xLabel: 'step', yLabel: 'learning rate', series: [series(records, 'lr', 'learning rate')], markers, stages }),
    linePlot({ title: 'Throughput', xLabel: 'step', yLabel: 'clips / s', series: [series(records, 'clipsPerSec', 'clips/s')], markers }),
    ...others.slice(0, MAX_EXTRA_PLOTS).map((f) => linePlot({ title: f, xLabel: 'step', yLabel: f, series: [series(records, f)], markers })),
  ];
  const last = records[records.length - 1];
  const meanThroughput = records.reduce((sum, r) => sum + r.clipsPerSec, 0) / records.length;
  const facts = table(
    ['steps logged', 'last step', 'epochs', 'final loss', 'lowest loss', 'mean clips/s', 'wall time'],
    [[
      records.length,
      last.step,
      new Set(records.map((r) => r.epoch)).size,
      formatNumber(last.loss, 4),
      formatNumber(records.reduce((low, r) => Math.min(low, r.loss), Infinity), 4),
      formatNumber(meanThroughput, 3),
      formatDuration(last.time),
    ]],
    'facts',
  );
  const resumed = relogged ? html`<p class="note">${relogged} step(s) were logged twice (a resumed run); the later values are shown.</p>` : '';
  const skipped = others.length > MAX_EXTRA_PLOTS ? html`<p class="note">Not plotted: ${others.slice(MAX_EXTRA_PLOTS).join(', ')}.</p>` : '';
  return {
    id,
    title,
    status: 'ok',
    body: html`${facts}${resumed}<div class="plots">${plots}</div>${skipped}${epochs.length ? epochTables(epochs) : ''}${notes}`,
  };
}
