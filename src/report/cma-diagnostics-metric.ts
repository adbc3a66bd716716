// The CMA diagnostics as a record of a run's metrics.jsonl (flat scalars, so the report tabulates them).
import { appendMetric, type EpochMetric } from './run-files.js';
import { AGREEMENT_KINDS, COMBINED_KINDS } from '../ssl/cma-measures.js';
import type { BankDiagnostics } from '../eval/cma-diagnostics.js';

/** The diagnostics as one epoch record of metrics.jsonl (flat scalars, so the report tabulates them). */
export function diagnosticsMetric(epoch: number, d: BankDiagnostics, phase: string): EpochMetric {
  const r = (x: number) => Math.round(1e4 * x) / 1e4;
  const record: EpochMetric = { kind: 'epoch', epoch, cmaDiagnostics: phase, cmaK: d.k, cmaLabelled: d.n };
  for (const kind of AGREEMENT_KINDS) {
    record[`precision_${kind}`] = r(d.positives[kind].precision);
    record[`precisionStdErr_${kind}`] = r(d.positives[kind].stdErr);
    record[`twinShare_${kind}`] = r(d.positives[kind].twin);
  }
  for (const [how, byKind] of Object.entries(d.normalised)) {
    for (const kind of COMBINED_KINDS) {
      record[`precision_${kind}_${how}`] = r(byKind[kind].precision);
      record[`precisionStdErr_${kind}_${how}`] = r(byKind[kind].stdErr);
      record[`twinShare_${kind}_${how}`] = r(byKind[kind].twin);
    }
  }
  if (d.probe) {
    record.memoryProbe_video = r(d.probe.video);
    record.memoryProbe_audio = r(d.probe.audio);
    record.memoryProbe_both = r(d.probe.both);
  }
  record.bankOverlap = r(d.agreement.overlap);
  record.bankSimilarityCorrelation = r(d.agreement.correlation);
  record.collapse_video = r(d.collapse.video);
  record.collapse_audio = r(d.collapse.audio);
  return record;
}

/** Appends the diagnostics to a run's metrics.jsonl. */
export function appendDiagnostics(runDir: string, epoch: number, d: BankDiagnostics, phase: string): void {
  appendMetric(runDir, diagnosticsMetric(epoch, d, phase));
}
