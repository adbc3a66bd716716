// Embeddings in the layout TensorBoard's projector reads from a log directory: projector_config.pbtxt naming,
// for each embedding, a tensor TSV (one row per point, values tab-separated) and a metadata TSV (a header row
// then one row per point, because there is more than one column: label and file).
import path from 'node:path';
import { writeFileAtomic } from '../atomic.js';

export interface ProjectorEmbedding {
  /** Shown in the projector's menu; also the sub-folder of its TSV files. */
  name: string;
  vectors: number[][];
  labels: string[];
  files?: string[];
}

/** Text-format string literal: backslashes and quotes escaped. */
function pbtxtString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** A TSV cell: tabs and line breaks would split the row, so they become spaces. */
function cell(value: string): string {
  return value.replace(/[\t\r\n]+/g, ' ');
}

function folderName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_') || 'embedding';
}

/** Writes the projector files into `logDir`; returns the config's path. */
export function writeProjector(logDir: string, embeddings: ProjectorEmbedding[]): string {
  const entries: string[] = [];
  const folders = new Set<string>();
  for (const e of embeddings) {
    if (e.vectors.length === 0) throw new Error(`projector embedding '${e.name}': no vectors`);
    if (e.labels.length !== e.vectors.length) throw new Error(`projector embedding '${e.name}': ${e.labels.length} labels for ${e.vectors.length} vectors`);
    if (e.files && e.files.length !== e.vectors.length) throw new Error(`projector embedding '${e.name}': ${e.files.length} files for ${e.vectors.length} vectors`);
    const dim = e.vectors[0].length;
    const bad = e.vectors.findIndex((v) => v.length !== dim || v.some((x) => !Number.isFinite(x)));
    if (bad >= 0) throw new Error(`projector embedding '${e.name}': vector ${bad} has length ${e.vectors[bad].length} (expected ${dim}) or a non-finite value`);
    let folder = folderName(e.name);
    for (let i = 2; folders.has(folder); i++) folder = `${folderName(e.name)}_${i}`;
    folders.add(folder);
    const tensorPath = `${folder}/tensors.tsv`;
    const metadataPath = `${folder}/metadata.tsv`;
    writeFileAtomic(path.join(logDir, tensorPath), e.vectors.map((v) => v.join('\t')).join('\n') + '\n');
    const header = e.files ? 'label\tfile' : 'label';
    const rows = e.labels.map((label, i) => (e.files ? `${cell(label)}\t${cell(e.files[i])}` : cell(label)));
    // The projector reads a header row only when there is more than one column.
    writeFileAtomic(path.join(logDir, metadataPath), (e.files ? [header, ...rows] : rows).join('\n') + '\n');
    entries.push(`embeddings {\n  tensor_name: ${pbtxtString(e.name)}\n  tensor_path: ${pbtxtString(tensorPath)}\n  metadata_path: ${pbtxtString(metadataPath)}\n}\n`);
  }
  const configPath = path.join(logDir, 'projector_config.pbtxt');
  writeFileAtomic(configPath, entries.join(''));
  return configPath;
}
