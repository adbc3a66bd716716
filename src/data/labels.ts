// The one reader of labels CSVs `file,label,fold[,group]` (header optional): manifests carry its rows, and the
// evaluation protocols build their label sets on it (eval/labels.ts adds what they require: a fold per
// file, dense class indices, groups within folds). `group` names the long video a clip was cut from (or the
// recording it came from), so that folds and samplers can keep them together. Further columns (the
// synthetic world adds class_name and split) are allowed.
import { readFileSync } from 'node:fs';
import { splitCsvLine } from '../io/csv.js';

export interface LabelRow {
  file: string;
  label: string;
  fold?: number;
  group?: string;
  /** 'train' / 'test' when the CSV has a split column (the synthetic world's). */
  split?: string;
  /** A readable class name when the CSV has a class_name column. */
  labelName?: string;
  /** The row's line in the file (1-based), for error messages. */
  line: number;
}

/** Parses labels CSV text; `source` names the file in error messages. */
export function parseLabelsCsv(text: string, source = 'labels.csv'): LabelRow[] {
  const rows: LabelRow[] = [];
  const seen = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  // Without a header the columns are file,label,fold,group; a header may name them in any order and add
  // split and class_name.
  let columns: Record<string, number> = { file: 0, label: 1, fold: 2, group: 3 };
  // With a header every row has its columns; without one, file and label are enough.
  let width = 2;
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
    const fields = splitCsvLine(raw);
    if (!fields) throw new Error(`${source}:${lineNo}: unterminated quote: ${raw}`);
    const names = fields.map((f) => f.toLowerCase());
    if (rows.length === 0 && seen.size === 0 && names[0] === 'file' && !names.includes('label')) throw new Error(`${source}:${lineNo}: the header has no 'label' column`);
    if (rows.length === 0 && seen.size === 0 && names.includes('file') && names.includes('label')) {
      columns = Object.fromEntries(fields.map((name, k) => [name.toLowerCase(), k]));
      width = fields.length;
      return;
    }
    if (fields.length < width) {
      const names = width === 2 ? 'file,label[,fold[,group]]' : Object.entries(columns).sort((a, b) => a[1] - b[1]).map(([n]) => n).join(',');
      throw new Error(`${source}:${lineNo}: expected ${width} fields (${names}), got ${fields.length}: '${raw.trim()}'`);
    }
    const column = (name: string) => (columns[name] === undefined ? undefined : fields[columns[name]]);
    const [file, label, foldText, group] = [column('file')!, column('label')!, column('fold'), column('group')];
    const split = column('split');
    const labelName = column('class_name');
    if (!file) throw new Error(`${source}:${lineNo}: empty 'file'`);
    if (!label) throw new Error(`${source}:${lineNo}: empty 'label' for ${file}`);
    let fold: number | undefined;
    if (foldText !== undefined && foldText !== '') {
      fold = Number(foldText);
      if (!/^[+-]?\d+$/.test(foldText.trim())) throw new Error(`${source}:${lineNo}: 'fold' must be an integer, got '${foldText}'`);
    }
    const previous = seen.get(file);
    if (previous !== undefined) throw new Error(`${source}:${lineNo}: file '${file}' is listed twice (first on line ${previous})`);
    seen.set(file, lineNo);
    rows.push({ file, label, ...(fold !== undefined ? { fold } : {}), ...(group ? { group } : {}), ...(split ? { split } : {}), ...(labelName ? { labelName } : {}), line: lineNo });
  });
  return rows;
}

export function readLabelsCsv(path: string): LabelRow[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read labels file ${path}: ${(error as Error).message}`);
  }
  return parseLabelsCsv(text, path);
}

/**
 * Finds the label row of a media file: by its path relative to the input folder it was found in, then by
 * its base name (a CSV usually lists bare file names). Ambiguous base names must use relative paths.
 */
export class LabelIndex {
  private readonly byFile = new Map<string, LabelRow>();
  private readonly used = new Set<LabelRow>();
  constructor(rows: LabelRow[]) {
    for (const row of rows) this.byFile.set(row.file.replace(/\\/g, '/').replace(/^\.\//, ''), row);
  }
  lookup(relativePath: string, baseName: string): LabelRow | undefined {
    const row = this.byFile.get(relativePath) ?? this.byFile.get(baseName);
    if (row) this.used.add(row);
    return row;
  }
  /** Rows that matched no file (typos, files removed since the CSV was written). */
  unused(): LabelRow[] {
    return [...this.byFile.values()].filter((r) => !this.used.has(r));
  }
}
