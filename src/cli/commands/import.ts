// `avid import <file.pth.tar> --out <file.safetensors>`: converts a PyTorch checkpoint of the AVID-CMA
// reference (its published files, or any torch.save of its model or state dict) into an avid checkpoint,
// once, without Python: the model under avid's (= the reference's) names, the memory banks, CMA's positive
// sets and the NCE constant when the file has them, and a config describing the architecture.
import { existsSync } from 'node:fs';
import { importReferenceCheckpoint, type ReferenceModelConfig } from '../../io/reference-checkpoint.js';
import { saveCheckpoint, disposeContents } from '../../io/checkpoint.js';
import { createModel } from '../../models/index.js';
import { parseFlags } from '../flags.js';

export const summary = 'convert a PyTorch checkpoint of the reference (.pth.tar, .pth, .pt) into an avid checkpoint';

const USAGE = `usage: avid import <checkpoint.pth.tar> --out <checkpoint.safetensors>

Reads a PyTorch checkpoint (the zip format of PyTorch >= 1.6 or the legacy one the AVID-CMA authors'
published files use, saved from CPUs or GPUs) through a restricted unpickler that runs nothing, and writes an
avid checkpoint that 'avid eval ... --checkpoint' loads. Accepted layouts: the reference's
{epoch, model, optimizer, train_criterion}, or a bare state dict, with or without DataParallel's 'module.'.
The memory banks (view1_mem, view2_mem), CMA's positive sets and the NCE constant come along when present;
the optimizer state does not. The architecture is inferred from the tensor shapes; the clip and spectrogram
settings recorded are the reference's pre-training ones, with audio.frontend: reference.

options:
  --out FILE   the avid checkpoint to write (safetensors)
  -h, --help   show this help`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, { positionals: true });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || !values.out) {
    console.error(`avid import: give one input file and --out\n\n${USAGE}`);
    return 2;
  }
  const [input] = positionals;
  if (!existsSync(input)) throw new Error(`${input}: no such file`);
  const { contents, summary: found } = importReferenceCheckpoint(input);
  try {
    // Load it into the model it describes, strictly, so that a file avid cannot use is refused here.
    const spec = (contents.scalars.config as { model: ReferenceModelConfig }).model;
    const model = createModel(spec.name, spec);
    try {
      model.loadStateDict(contents.groups.model, { strict: true });
    } catch (error) {
      throw new Error(`${input}: the weights do not fit the inferred ${JSON.stringify(spec)}: ${(error as Error).message}`);
    } finally {
      model.dispose();
    }
    saveCheckpoint(values.out, contents);
  } finally {
    disposeContents(contents);
  }
  const lines = [
    `read ${input} (${found.format}${found.epoch !== null ? `, epoch ${found.epoch}` : ''}): ${found.modelTensors} model tensors${found.prefix ? ` (prefix '${found.prefix}' dropped)` : ''}`,
    `model: ${JSON.stringify((contents.scalars.config as { model: unknown }).model)}`,
    found.memoryBanks ? `memory banks: [${found.memoryBanks}] video and audio; Z = ${found.z ?? 'not set'}` : 'memory banks: none in the file',
    found.positives ? `CMA positive sets: [${found.positives}]` : null,
    found.ignored.length > 0 ? `not imported: ${found.ignored.join(', ')}` : null,
    'audio front end: reference (recorded in the config: evaluation computes the reference\'s log spectrogram; its training-set statistics are not in the file, pass the reference\'s datasets/assets/*-norm-stats.npz with --audio-stats, see docs/published-checkpoints.md)',
    `wrote ${values.out}`,
  ];
  for (const line of lines) if (line) console.log(line);
  return 0;
}
