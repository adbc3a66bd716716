// Labels of a downstream dataset: which class each file belongs to, which cross-validation fold it sits in,
// and which recording group it comes from (clips cut from one recording must never straddle train and test).
// Two sources: a CSV (`file,label,fold[,group]`, read by data/labels.ts) or the ESC file-naming scheme.
import { readFileSync, readdirSync } from 'node:fs';
import { splitCsvLine } from '../io/csv.js';
import { parseLabelsCsv } from '../data/labels.js';

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

/**
 * A label set from labels CSV text, read by the one CSV reader (data/labels.ts) with what the protocols
 * require on top: a header naming file, label and fold; a fold on every row; a split of train or test;
 * groups that stay within one fold; and dense class indices.
 */
export function parseLabelSet(text: string, source = '<csv>'): LabelSet {
  const lines = text.split(/\r?\n/);
  const headerLine = lines.findIndex((l) => l.trim() !== '');
  if (headerLine < 0) throw new Error(`${source}: empty labels file (expected a header 'file,label,fold[,group]')`);
  const header = splitCsvLine(lines[headerLine])?.map((h) => h.toLowerCase());
  if (!header) throw new Error(`${source}:${headerLine + 1}: unterminated quote in the header`);
  for (const required of ['file', 'label', 'fold']) {
    if (!header.includes(required)) {
      throw new Error(
        `${source}:${headerLine + 1}: the header must name the columns file,label,fold[,group]; ` +
          `'${required}' is missing (header: ${lines[headerLine].trim()})`,
      );
    }
  }
  const rows = parseLabelsCsv(text, source).map((r) => {
    if (r.split !== undefined && r.split !== 'train' && r.split !== 'test') throw new Error(`${source}:${r.line}: 'split' must be 'train' or 'test', got '${r.split}'`);
    if (r.fold === undefined) throw new Error(`${source}:${r.line}: 'fold' must be an integer, got ''`);
    return { file: r.file, labelName: r.label, fold: r.fold, group: r.group ?? r.file, ...(r.split ? { split: r.split as 'train' | 'test' } : {}) };
  });
  if (rows.length === 0) throw new Error(`${source}: no rows after the header`);
  const { classNames, index } = denseLabels(rows.map((r) => r.labelName));
  const entries = rows.map((r) => ({ ...r, label: index.get(r.labelName)! }));
  checkGroupsWithinFolds(entries, source);
  return { entries, classNames };
}

export function readLabelSet(path: string): LabelSet {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read labels file ${path}: ${(error as Error).message}`);
  }
  return parseLabelSet(text, path);
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
