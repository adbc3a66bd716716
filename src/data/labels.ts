// Labels carried into a manifest from a CSV `file,label,fold[,group]` (header optional): `group` names the long
// video a clip was cut from (or the recording it came from), so that folds and samplers can keep them together.
// Further columns (the synthetic world adds class_name and split) are allowed and ignored here.
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
}

/** Parses labels CSV text; `source` names the file in error messages. */
export function parseLabelsCsv(text: string, source = 'labels.csv'): LabelRow[] {
  const rows: LabelRow[] = [];
  const seen = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  // Without a header the columns are file,label,fold,group; a header may name them in any order and add
  // split and class_name.
  let columns: Record<string, number> = { file: 0, label: 1, fold: 2, group: 3 };
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
    const fields = splitCsvLine(raw);
    if (!fields) throw new Error(`${source}:${lineNo}: unterminated quote: ${raw}`);
    if (rows.length === 0 && seen.size === 0 && fields[0].toLowerCase() === 'file') {
      columns = Object.fromEntries(fields.map((name, k) => [name.toLowerCase(), k]));
      if (columns.label === undefined) throw new Error(`${source}:${lineNo}: the header has no 'label' column`);
      return;
    }
    if (fields.length < 2) {
      throw new Error(`${source}:${lineNo}: expected 'file,label[,fold[,group]]', got ${fields.length} field(s): ${raw}`);
    }
    const column = (name: string) => (columns[name] === undefined ? undefined : fields[columns[name]]);
    const [file, label, foldText, group] = [column('file')!, column('label')!, column('fold'), column('group')];
    const split = column('split');
    const labelName = column('class_name');
    if (!file) throw new Error(`${source}:${lineNo}: empty file name`);
    if (!label) throw new Error(`${source}:${lineNo}: empty label for '${file}'`);
    let fold: number | undefined;
    if (foldText !== undefined && foldText !== '') {
      fold = Number(foldText);
      if (!Number.isInteger(fold)) throw new Error(`${source}:${lineNo}: fold must be an integer, got '${foldText}'`);
    }
    const previous = seen.get(file);
    if (previous !== undefined) throw new Error(`${source}:${lineNo}: '${file}' is already labelled on line ${previous}`);
    seen.set(file, lineNo);
    rows.push({ file, label, ...(fold !== undefined ? { fold } : {}), ...(group ? { group } : {}), ...(split ? { split } : {}), ...(labelName ? { labelName } : {}) });
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
