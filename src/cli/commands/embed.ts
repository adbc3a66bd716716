// avid embed --checkpoint <run|file|random...> <folder|manifest> --out <embeddings.safetensors>
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as T from '../../tensor/index.js';
import { load } from '../../eval/load.js';
import { buildManifest, readManifest, type ManifestEntry } from '../../data/manifest.js';
import { saveSafetensors } from '../../io/safetensors.js';
import { Progress } from '../../train/progress.js';
import { parseFlags, positiveInt, seed as seedFlag, checkpointFlag, ARCHITECTURE_FLAGS, CHECKPOINT_HELP } from '../flags.js';

export const summary = 'embed every video of a folder with a run\'s encoders: safetensors of video and audio embeddings plus a CSV';

const usage = `usage: avid embed --checkpoint <run|file|random|random:<run>> <folder|manifest.jsonl> --out <embeddings.safetensors> [--clips 1]

Embeds --clips clips of each audio-visual file (uniformly spaced, in the run's clip geometry and statistics)
with the model's video and audio encoders and writes them to --out (safetensors: 'video' and 'audio', each
(rows, D) unit-norm float32) and a CSV beside it (<out>.csv: row, file, clip, start seconds). Files that
cannot be used (no audio stream, unreadable, too short) are skipped and listed with the reason.

${CHECKPOINT_HELP}`;

/** A CSV field, quoted when it holds a comma, quote or newline (as io/csv.ts reads it back). */
const csvField = (text: string) => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { checkpoint: { type: 'string' }, out: { type: 'string' }, clips: { type: 'string', default: '1' }, seed: { type: 'string', default: '0' }, ...ARCHITECTURE_FLAGS, help: { type: 'boolean', default: false } },
    { positionals: true },
  );
  if (values.help || positionals.length !== 1) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const { input, random } = checkpointFlag(values, { defaultModel: 'av-r2plus1d-10' });
  if (!values.out) throw new Error('--out is required: the safetensors file to write (a CSV of the rows goes beside it)');
  if (!values.out.endsWith('.safetensors')) throw new Error(`--out ${values.out}: expected a .safetensors file`);
  const clips = positiveInt(values.clips, '--clips');
  const model = load(input, { seed: seedFlag(values.seed), random });
  try {
    const source = positionals[0];
    const clipSeconds = Math.max(model.geometry.frames / model.geometry.fps, model.geometry.audioSeconds);
    let entries: ManifestEntry[];
    if (existsSync(source) && statSync(source).isDirectory()) {
      const manifest = await buildManifest([source], { mode: 'audio-visual', clipSeconds, verifyEnd: false });
      for (const r of manifest.rejects) process.stderr.write(`embed: skipped ${r.path} (${r.reason})\n`);
      entries = manifest.entries;
    } else {
      entries = readManifest(source);
    }
    if (entries.length === 0) throw new Error(`${source}: no usable audio-visual file to embed`);
    const progress = new Progress('embedding', entries.length);
    const video: Float32Array[] = [];
    const audio: Float32Array[] = [];
    const rows = ['row,file,clip,start_seconds'];
    let dim = 0;
    for (const [i, entry] of entries.entries()) {
      const e = await model.embedFile(entry.path, { clips });
      dim = e.meta.dim;
      video.push(e.video);
      audio.push(e.audio);
      e.meta.starts.forEach((start, k) => rows.push([rows.length - 1, csvField(entry.path), k, start.toFixed(3)].join(',')));
      progress.update(i + 1);
    }
    progress.done();
    const n = rows.length - 1;
    const concat = (parts: Float32Array[]) => {
      const out = new Float32Array(n * dim);
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    };
    mkdirSync(path.dirname(path.resolve(values.out)), { recursive: true });
    T.tidy(() => saveSafetensors(values.out!, { video: T.tensor(concat(video), [n, dim]), audio: T.tensor(concat(audio), [n, dim]) }, { checkpoint: input, clipsPerFile: String(clips) }));
    writeFileSync(`${values.out.replace(/\.safetensors$/, '')}.csv`, `${rows.join('\n')}\n`);
    console.log(`${n} rows (${entries.length} files × ${clips} clips, ${dim}-d): ${values.out} and ${values.out.replace(/\.safetensors$/, '')}.csv`);
  } finally {
    model.dispose();
  }
  return 0;
}
