// The `train` records of a run's metrics.jsonl as they stand now, read while the run may still be writing: a
// last line without its newline is left out rather than parsed half-written.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export function trainRecords(runDir: string): { step: number; loss: number }[] {
  const file = path.join(runDir, 'metrics.jsonl');
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((r) => r.kind === 'train');
}
