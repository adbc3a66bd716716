// avid pretrain --config <yaml> [--set key=value ...] [--resume <run dir>]
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, parseConfig, applyOverride } from '../../config/load.js';
import { pretrain } from '../../train/pretrain.js';
import { RESUMABLE_KEYS } from '../../config/resume.js';
import { parseFlags } from '../flags.js';

export const summary = 'self-supervised pre-training (AVID Self/Cross/Joint, CMA, AVTS; uniform or long-form sampling) from a config';

const usage = `usage: avid pretrain --config <file.yaml> [--set key.path=value ...] [--overwrite] [--device cpu|cuda|cuda:N] [--precision fp32|fp16|bf16] [--tensorboard]
       avid pretrain --resume <run dir> [--set train.epochs=N] [--set optim.lr=X] [--device ...]

Trains the video and audio encoders on unlabelled videos. The run directory (<runsDir>/<name>) receives
config.json, metrics.jsonl, data.json, versions.json and checkpoints/last.safetensors (atomic; resumable).
Ctrl-C finishes the step, saves a checkpoint and exits 130 (a second Ctrl-C quits at once); --resume
continues exactly where the run stopped. A run that exists already is never replaced: pretrain refuses,
unless --overwrite, which moves the old run aside (<name>.replaced-<time>) and starts again.

On --resume, --set may change only what does not make it another run: ${RESUMABLE_KEYS.join(', ')}.
The changes are applied (optim.lr replaces the restored learning rate) and recorded in metrics.jsonl.

--device and --precision are train.device and train.precision: 'cuda' needs an avid build against a CUDA
libtorch (docs/cuda.md); fp16 (CUDA only) adds dynamic loss scaling, bf16 also runs on the CPU. A
checkpoint resumes on any device.

--tensorboard is train.tensorboard=true: every metrics record is also written as TensorBoard scalars to
<run dir>/tensorboard/ (tensorboard --logdir <run dir>/tensorboard). avid report <run dir> --tensorboard
does the same afterwards, for any run, and adds the embeddings for the projector.

Configs: configs/avid/*.yaml (the papers' settings), configs/cma/*.yaml, configs/cpu/*.yaml (CPU-sized).`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    config: { type: 'string' },
    set: { type: 'string', multiple: true, default: [] },
    resume: { type: 'string' },
    overwrite: { type: 'boolean', default: false },
    device: { type: 'string' },
    precision: { type: 'string' },
    tensorboard: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  // The shorthands are config overrides, applied after any --set.
  const sets = [...(values.set ?? [])];
  if (values.device !== undefined) sets.push(`train.device=${values.device}`);
  if (values.precision !== undefined) sets.push(`train.precision=${values.precision}`);
  if (values.tensorboard) sets.push('train.tensorboard=true');
  let config;
  let resumeDir: string | undefined;
  if (values.resume && values.overwrite) throw new Error('--resume and --overwrite exclude each other');
  if (values.resume) {
    resumeDir = path.resolve(values.resume);
    const file = path.join(resumeDir, 'config.json');
    if (!existsSync(file)) throw new Error(`cannot resume: ${file} not found (is ${values.resume} a run directory?)`);
    const raw = JSON.parse(readFileSync(file, 'utf8'));
    for (const o of sets) applyOverride(raw, o);
    config = parseConfig(raw, file);
  } else {
    if (!values.config) {
      console.error(usage);
      return 2;
    }
    config = loadConfig(values.config, sets);
  }
  const result = await pretrain(config, { resumeDir, existing: values.overwrite ? 'overwrite' : 'refuse' });
  console.log(`${result.status}: epoch ${result.epoch}, step ${result.step}; checkpoint ${result.checkpoint}`);
  return result.status === 'interrupted' ? 130 : 0;
}
