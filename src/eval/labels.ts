// Labels of a downstream dataset: which class each file belongs to, which cross-validation fold it sits in,
// and which recording group it comes from (clips cut from one recording must never straddle train and test).
// Two sources: a CSV (`file,label,fold[,group]`) or the ESC file-naming scheme.
import { readFileSync, readdirSync } from 'node:fs';
import { splitCsvLine } from '../io/csv.js';

export interface LabelledFile {
  /** The file as named by the source (a CSV path as written, or the ESC file name). */
  file: string;
  /** Dense class index 0..K-1. */
  label: number;
  /** The class as the source names it (the CSV label text, or the ESC class name). */
  labelName?: string;
  /** Cross-validation fold (an integer as given; ESC: 1..5). */
  fold: number;
  /** Recording group: files sharing a group must share a fold. Defaults to the file itself. */
  group: string;
  /** The dataset's given train/test split, when the CSV has a 'split' column (the synthetic world's). */
  split?: 'train' | 'test';
}

export interface LabelSet {
  entries: LabelledFile[];
  /** classNames[label] is the name of class `label`. */
  classNames: string[];
}

const INTEGER = /^[+-]?\d+$/;

/**
 * Turns raw (name) labels into dense indices. Names that are all integers sort numerically (so "2" < "10"),
 * otherwise lexicographically; the order is part of the result so that indices are reproducible.
 */
function denseLabels(names: string[]): { classNames: string[]; index: Map<string, number> } {
  const unique = [...new Set(names)];
  if (unique.every((n) => INTEGER.test(n))) unique.sort((a, b) => Number(a) - Number(b));
  else unique.sort();
  return { classNames: unique, index: new Map(unique.map((n, i) => [n, i])) };
}

/** Parses CSV text (`file,label,fold[,group]` with a header naming those columns, in any order). */
export function parseLabelsCsv(text: string, source = '<csv>'): LabelSet {
  const lines = text.split(/\r?\n/);
  let headerLine = -1;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '') {
      headerLine = i;
      break;
    }
  }
  if (headerLine < 0) throw new Error(`${source}: empty labels file (expected a header 'file,label,fold[,group]')`);
  const header = splitCsvLine(lines[headerLine])?.map((h) => h.toLowerCase());
  if (!header) throw new Error(`${source}:${headerLine + 1}: unterminated quote in the header`);
  const col = (name: string) => header.indexOf(name);
  for (const required of ['file', 'label', 'fold']) {
    if (col(required) < 0) {
      throw new Error(
        `${source}:${headerLine + 1}: the header must name the columns file,label,fold[,group]; ` +
          `'${required}' is missing (header: ${lines[headerLine].trim()})`,
      );
    }
  }
  const [fileCol, labelCol, foldCol, groupCol, splitCol] = [col('file'), col('label'), col('fold'), col('group'), col('split')];

  const rows: { file: string; labelName: string; fold: number; group: string; split?: 'train' | 'test' }[] = [];
  const seen = new Map<string, number>();
  for (let i = headerLine + 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const where = `${source}:${i + 1}`;
    const fields = splitCsvLine(lines[i]);
    if (!fields) throw new Error(`${where}: unterminated quote`);
    if (fields.length < header.length) {
      throw new Error(`${where}: expected ${header.length} fields (${header.join(',')}), got ${fields.length}: '${lines[i].trim()}'`);
    }
    const file = fields[fileCol];
    const labelName = fields[labelCol];
    const foldText = fields[foldCol];
    if (!file) throw new Error(`${where}: empty 'file'`);
    if (!labelName) throw new Error(`${where}: empty 'label' for ${file}`);
    if (!INTEGER.test(foldText)) throw new Error(`${where}: 'fold' must be an integer, got '${foldText}'`);
    const previous = seen.get(file);
    if (previous !== undefined) throw new Error(`${where}: file '${file}' is listed twice (first on line ${previous})`);
    seen.set(file, i + 1);
    const group = groupCol >= 0 && fields[groupCol] ? fields[groupCol] : file;
    const split = splitCol >= 0 ? fields[splitCol] : undefined;
    if (split !== undefined && split !== 'train' && split !== 'test') throw new Error(`${where}: 'split' must be 'train' or 'test', got '${split}'`);
    rows.push({ file, labelName, fold: Number(foldText), group, ...(split ? { split } : {}) });
  }
  if (rows.length === 0) throw new Error(`${source}: no rows after the header`);
  const { classNames, index } = denseLabels(rows.map((r) => r.labelName));
  const entries = rows.map((r) => ({ ...r, label: index.get(r.labelName)! }));
  checkGroupsWithinFolds(entries, source);
  return { entries, classNames };
}

export function readLabelsCsv(path: string): LabelSet {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read labels file ${path}: ${(error as Error).message}`);
  }
  return parseLabelsCsv(text, path);
}

/** `NNN_-_Class_name_F-FREESOUNDID-TAKE.ext`: class NNN, fold F, recording FREESOUNDID, take TAKE. */
const ESC_NAME = /^(\d+)_-_(.+)_(\d+)-(\d+)-([A-Za-z0-9]+)\.(ogg|wav|flac|mp3)$/;

export interface EscName {
  classCode: string;
  className: string;
  fold: number;
  recording: string;
  take: string;
}

/** Parses one ESC file name, or returns null when it does not follow the scheme. */
export function parseEscName(fileName: string): EscName | null {
  const m = ESC_NAME.exec(fileName);
  if (!m) return null;
  return { classCode: m[1], className: m[2].replace(/_/g, ' '), fold: Number(m[3]), recording: m[4], take: m[5] };
}

/**
 * Labels from ESC file names. Audio files that do not follow the scheme are an error (a silently dropped
 * clip would change the folds); other files (READMEs) are ignored.
 */
export function labelsFromEscNames(fileNames: string[], source = '<esc>'): LabelSet {
  const audio = fileNames.filter((f) => /\.(ogg|wav|flac|mp3)$/i.test(f)).sort();
  if (audio.length === 0) throw new Error(`${source}: no audio files (.ogg/.wav/.flac/.mp3) to label`);
  const parsed = audio.map((file) => {
    const name = parseEscName(file);
    if (!name) throw new Error(`${source}: '${file}' does not follow the ESC naming scheme NNN_-_Class_name_F-FREESOUNDID-TAKE.ogg`);
    return { file, name };
  });
  const codeToName = new Map<string, string>();
  for (const { file, name } of parsed) {
    const known = codeToName.get(name.classCode);
    if (known !== undefined && known !== name.className) {
      throw new Error(`${source}: '${file}' names class ${name.classCode} '${name.className}', elsewhere '${known}'`);
    }
    codeToName.set(name.classCode, name.className);
  }
  const codes = [...codeToName.keys()].sort((a, b) => Number(a) - Number(b));
  const index = new Map(codes.map((c, i) => [c, i]));
  const entries: LabelledFile[] = parsed.map(({ file, name }) => ({
    file,
    label: index.get(name.classCode)!,
    labelName: name.className,
    fold: name.fold,
    group: name.recording,
  }));
  checkGroupsWithinFolds(entries, source);
  return { entries, classNames: codes.map((c) => codeToName.get(c)!) };
}

/** Labels from the ESC names of the audio files in a directory. */
export function labelsFromEscDirectory(dir: string): LabelSet {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new Error(`cannot list ${dir}: ${(error as Error).message}`);
  }
  return labelsFromEscNames(names, dir);
}

/**
 * A recording split over two folds would leak: its clips would be in train and test of one split. The fold
 * assignment is the dataset's, so this is an error in the data, reported with the offending files.
 */
export function checkGroupsWithinFolds(entries: LabelledFile[], source = '<labels>'): void {
  const foldOfGroup = new Map<string, LabelledFile>();
  for (const e of entries) {
    const first = foldOfGroup.get(e.group);
    if (first && first.fold !== e.fold) {
      throw new Error(
        `${source}: recording group '${e.group}' spans folds ${first.fold} (${first.file}) and ${e.fold} (${e.file}); ` +
          'clips of one recording must share a fold',
      );
    }
    if (!first) foldOfGroup.set(e.group, e);
  }
}
