// Evaluation results: JSON on disk (written atomically, so a crash never leaves half a file) and a
// readable aligned table on the terminal.
import { writeFileAtomic } from '../io/atomic.js';

export type Cell = string | number | null | undefined;

export interface TableOptions {
  /** Decimal places for non-integer numbers (default 2). */
  decimals?: number;
  /** Right-align numeric columns (default true). */
  alignNumbers?: boolean;
}

function formatCell(value: Cell, decimals: number): string {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    return Number.isInteger(value) ? String(value) : value.toFixed(decimals);
  }
  return value;
}

/**
 * An aligned plain-text table: a header row, a rule, the rows. Numeric columns are right-aligned, text
 * columns left-aligned. Rows shorter than the header are padded with '–'.
 */
export function formatTable(headers: string[], rows: Cell[][], options: TableOptions = {}): string {
  const decimals = options.decimals ?? 2;
  const alignNumbers = options.alignNumbers ?? true;
  const text = rows.map((row) => headers.map((_, c) => formatCell(row[c], decimals)));
  const numeric = headers.map((_, c) => alignNumbers && rows.length > 0 && rows.every((row) => typeof row[c] === 'number' || row[c] == null));
  const widths = headers.map((h, c) => Math.max(h.length, ...text.map((row) => row[c].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (numeric[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join('\n');
}

/** A ratio in [0, 1] as a percentage with one decimal ("72.5"). */
export function percent(ratio: number): number {
  return Math.round(ratio * 1000) / 10;
}

/** Writes `result` as pretty JSON (atomically; typed arrays become plain arrays). */
export function writeResultsJson(file: string, result: unknown): void {
  const json = JSON.stringify(
    result,
    (_key, value) => (ArrayBuffer.isView(value) && !(value instanceof DataView) ? Array.from(value as unknown as ArrayLike<number>) : value),
    2,
  );
  writeFileAtomic(file, `${json}\n`);
}
