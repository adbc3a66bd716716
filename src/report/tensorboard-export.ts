// `avid report <run> --tensorboard`: any run's metrics.jsonl as TensorBoard scalars, and its raw embeddings
// (results/embeddings.json) in the projector's layout, under <run dir>/tensorboard/. A run trained with
// train.tensorboard already has its events there; then only the projector files are (re)written.
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { EventFileWriter } from '../io/tensorboard/event-file.js';
import { metricScalars, TENSORBOARD_DIR } from '../io/tensorboard/metric-scalars.js';
import { writeProjector } from '../io/tensorboard/projector.js';
import { EmbeddingVectorsSchema, RUN_FILES, parseMetrics, parseRunJson } from './run-files.js';

const EXPORT_SUFFIX = 'avid-report';

export interface TensorBoardExport {
  logDir: string;
  /** The event file written now, or null (no metrics, or the trainer wrote events already). */
  eventFile: string | null;
  /** Scalar events written. */
  events: number;
  /** Why no event file was written, when none was. */
  eventsNote: string | null;
  projectorConfig: string | null;
}

export function exportRunToTensorBoard(runDir: string): TensorBoardExport {
  const dir = path.resolve(runDir);
  const logDir = path.join(dir, TENSORBOARD_DIR);
  const result: TensorBoardExport = { logDir, eventFile: null, events: 0, eventsNote: null, projectorConfig: null };
  const existing = existsSync(logDir) ? readdirSync(logDir).filter((f) => f.includes('tfevents')) : [];
  const metricsPath = path.join(dir, RUN_FILES.metrics);
  if (existing.some((f) => !f.endsWith(`.${EXPORT_SUFFIX}`))) {
    result.eventsNote = 'the trainer wrote event files during training (train.tensorboard); not written again';
  } else if (!existsSync(metricsPath)) {
    result.eventsNote = `no ${RUN_FILES.metrics}`;
  } else {
    // Re-exporting replaces the previous export rather than adding a second copy of every point.
    for (const f of existing) rmSync(path.join(logDir, f));
    const { train, epochs } = parseMetrics(readFileSync(metricsPath, 'utf8'));
    // metrics.jsonl has seconds since the start; the file's last change dates its last record.
    const lastTime = train.reduce((t, r) => Math.max(t, r.time), 0);
    const start = statSync(metricsPath).mtimeMs / 1000 - lastTime;
    const writer = new EventFileWriter(logDir, start, EXPORT_SUFFIX);
    const ordered = [...train.map((r) => ({ r, at: r.time })), ...epochs.map((r) => ({ r, at: Number.NaN }))];
    // Epoch records carry no time: each is written at the wall time of the last step record of its epoch.
    const epochEnd = new Map<number, number>();
    for (const r of train) epochEnd.set(r.epoch, Math.max(epochEnd.get(r.epoch) ?? 0, r.time));
    for (const { r, at } of ordered) {
      const event = metricScalars(r);
      if (!event) continue;
      writer.scalars(event.step, event.scalars, start + (Number.isFinite(at) ? at : epochEnd.get(r.epoch) ?? lastTime));
      result.events++;
    }
    result.eventFile = writer.path;
  }
  const embeddingsPath = path.join(dir, RUN_FILES.embeddings);
  if (existsSync(embeddingsPath)) {
    const e = parseRunJson(RUN_FILES.embeddings, readFileSync(embeddingsPath, 'utf8'), EmbeddingVectorsSchema);
    result.projectorConfig = writeProjector(logDir, [{ name: 'embeddings', vectors: e.vectors, labels: e.labels, files: e.files }]);
  }
  return result;
}
