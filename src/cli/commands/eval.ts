// `avid eval <svm|probe|knn|retrieval|finetune> --checkpoint <run|file|random> --data <dir> [...]`: parses the
// flags and prints; the protocols run in src/eval (run-audio-protocol, run-retrieval, run-finetune).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import * as T from '../../tensor/index.js';
import { MODEL_NAMES } from '../../models/index.js';
import { resolveDevice } from '../../train/device-transfer.js';
import { formatTable, percent } from '../../eval/results.js';
import { runAudioProtocol, AUDIO_PROTOCOLS, type AudioProtocol } from '../../eval/run-audio-protocol.js';
import { runRetrieval } from '../../eval/run-retrieval.js';
import { runFinetune } from '../../eval/run-finetune.js';
import { parseFlags, positiveInt, positiveNumber, nonNegativeNumber, fraction, seed as seedFlag, numberList, oneOf, checkpointFlag, frontendFlag, ARCHITECTURE_FLAGS, CHECKPOINT_HELP, FRONTEND_FLAGS, FRONTEND_HELP } from '../flags.js';
import { resultsDestination, writeEvaluationResults } from '../results-destination.js';

export const summary = 'evaluate encoders: SVM sound protocol, linear probe, k-NN, cross-modal retrieval, fine-tuning';

const PROTOCOLS = [...AUDIO_PROTOCOLS, 'retrieval', 'finetune'] as const;

const usage = `usage: avid eval <svm|probe|knn> --checkpoint <run|file|random> --data <dir> [options]
       avid eval retrieval --checkpoint <run|file|random> --data <manifest.jsonl|dir> [options]
       avid eval finetune --checkpoint <run|file|random|random:<file>> --data <dir> [--labels csv] --modality audio|video [options]

Evaluates the audio encoder of a checkpoint (or a randomly initialised one) on a labelled sound dataset
with the papers' protocols, cross-validated over the dataset's folds:
  svm    one-vs-rest linear SVM on per-clip block features; every training clip is an example, test
         scores are averaged over a sample's clips; C chosen by inner cross-validation on training folds
  probe  multinomial logistic regression on the same features (clip@1 and video@1), weight decay chosen
         on a validation split of the training samples
  knn    cosine k-NN on per-sample features (mean over the sample's clips)
Labels: --labels CSV (file,label,fold[,group]; files relative to --data), else the ESC file names in --data.
Features are cached (safetensors) in --cache, keyed by model, weights, data and settings.
  retrieval  video→audio and audio→video recall@1/5/10 and median rank over the videos of --data (a
         manifest or a directory of audio-visual files): each video's K aligned evaluation clips are embedded
         by the AV model and averaged; the i-th video's audio is its match. The model settings (frames, size,
         spectrogram) come from the checkpoint's config; with random weights from --model/--width/--frames/--size.
  finetune  the whole encoder (the --modality branch of an AV checkpoint, a bare encoder's state dict, or
         with 'random' --model audio-conv2d|r2plus1d-*) with dropout and a new linear layer on its max-pooled conv5x features, trained
         end to end: Adam (--lr, default the papers' 1e-4), lr × 0.3 at 60/100/140 of 160 epochs scaled to
         --epochs; batch-norm in training mode while training, evaluation mode at test; one random clip per
         training sample and epoch; test: clip@1 and video@1 over --clips uniformly spaced clips. Per fold
         (--splits folds), or the labels' train/test 'split' column (--splits given; auto: the column when
         present). The clip geometry and spectrogram statistics come from the checkpoint's config;
         'random:<file>' is a random network of <file>'s architecture, geometry and statistics.
         Each fold's fine-tuned model is saved as <out>.fold<k>.safetensors (or in --save DIR).

options:
${CHECKPOINT_HELP}
  --data DIR                 the audio files
  --labels FILE              labels CSV (default: ESC names in --data)
  --model NAME               'random' only: ${MODEL_NAMES.join(', ')} (default audio-conv2d for
                             svm/probe/knn, av-r2plus1d-10 for retrieval and finetune)
  --width W                  'random' only: channel multiplier of the encoder (default 1)
  --blocks LIST              blocks to evaluate, comma-separated (default conv5x); conv2x..conv5x, pool
  --clips K                  clips per sample (default 10)
  --clip-seconds S           seconds per clip (default: the checkpoint's audio.seconds; 2 for random)
  --sample-rate HZ           (default: the checkpoint's audio.sampleRate; 24000 for random)
  --hop-seconds S            spectrogram hop (default: the checkpoint's audio.hopSeconds): 0.02 (100 frames / 2 s) or 0.01
                             (a checkpoint's spectrogram statistics bring their own rate, hop and bins; without
                             them, e.g. random weights, each clip's spectrogram is standardised on its own)
${FRONTEND_HELP}
  --audio-stats FILE         per-bin spectrogram statistics to Z-normalise with, over the checkpoint's: avid's
                             JSON, or the reference's datasets/assets/*-norm-stats.npz (its training-set
                             statistics, for imported reference checkpoints)
  --c-grid LIST              SVM C candidates (default 0.001,0.01,0.1,1,10,100)
  --tolerance T              SVM stopping tolerance on the projected gradient (default 0.01)
  --max-iterations N         SVM pass cap (default 1000; unconverged SVMs are counted in the results)
  --k N                      k-NN neighbours (default 20)
  --frames N, --size N       'random' only (retrieval, fine-tuning): clip frames (default 8) and frame size
                             (default 112)
  --modality audio|video     fine-tuning: which encoder (default audio)
  --epochs N                 fine-tuning epochs (default 20; the papers' 160 for UCF 8f)
  --lr X                     fine-tuning Adam learning rate (default 1e-4)
  --weight-decay X           fine-tuning L2 weight decay (default 0)
  --dropout P                fine-tuning dropout before the classifier (default 0.5)
  --train-clips N            fine-tuning: random clips per training sample and epoch (default 1)
  --splits auto|folds|given  fine-tuning: cross-validate over the folds, or use the labels' split column
  --save DIR                 fine-tuning: where the fine-tuned checkpoints go (default beside --out)
  --test-folds LIST          hold out only these folds (default all)
  --cache DIR                feature cache directory (default .cache/eval-features)
  --no-cache                 do not read or write the cache
  --batch-size N             clips per forward pass (default 32)
  --seed N                   seed of the random initialisation and the solvers (default 0)
  --threads N                libtorch threads (default: libtorch's)
  --device cpu|cuda|cuda:N   where the encoder runs (svm, probe, knn, retrieval; default cpu; CUDA needs an
                             avid build against a CUDA libtorch, see docs/cuda.md)
  --out FILE                 results JSON; default (and only for a run or a checkpoint in a run's checkpoints/):
                             the run's results/<protocol>.json (a table for the report) and
                             results/details/<protocol>.json
  -h, --help                 this help`;

const options = {
  checkpoint: { type: 'string' },
  ...ARCHITECTURE_FLAGS,
  data: { type: 'string' },
  labels: { type: 'string' },
  blocks: { type: 'string', default: 'conv5x' },
  clips: { type: 'string', default: '10' },
  'clip-seconds': { type: 'string' },
  'sample-rate': { type: 'string' },
  'hop-seconds': { type: 'string' },
  ...FRONTEND_FLAGS,
  'audio-stats': { type: 'string' },
  'c-grid': { type: 'string', default: '0.001,0.01,0.1,1,10,100' },
  tolerance: { type: 'string', default: '0.01' },
  'max-iterations': { type: 'string', default: '1000' },
  k: { type: 'string', default: '20' },
  'test-folds': { type: 'string' },
  cache: { type: 'string', default: '.cache/eval-features' },
  'no-cache': { type: 'boolean', default: false },
  'batch-size': { type: 'string', default: '32' },
  seed: { type: 'string', default: '0' },
  modality: { type: 'string', default: 'audio' },
  epochs: { type: 'string', default: '20' },
  lr: { type: 'string', default: '1e-4' },
  'weight-decay': { type: 'string', default: '0' },
  dropout: { type: 'string', default: '0.5' },
  'train-clips': { type: 'string', default: '1' },
  splits: { type: 'string', default: 'auto' },
  save: { type: 'string' },
  threads: { type: 'string' },
  device: { type: 'string', default: 'cpu' },
  out: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, options, { positionals: true });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const protocol = positionals[0];
  if (!(PROTOCOLS as readonly string[]).includes(protocol ?? '')) throw new Error(`the protocol must be svm, probe, knn, retrieval or finetune; got '${protocol ?? ''}'\n\n${usage}`);
  const isAudio = (AUDIO_PROTOCOLS as readonly string[]).includes(protocol);
  const { input, random } = checkpointFlag(values, { defaultModel: isAudio ? 'audio-conv2d' : 'av-r2plus1d-10' });
  if (!values.data) throw new Error(`--data is required\n\n${usage}`);
  const destination = resultsDestination(input, values.out);
  if (values.threads) T.setNumThreads(positiveInt(values.threads, '--threads'));
  const device = resolveDevice(values.device, { what: '--device' });
  if (protocol === 'finetune' && device !== 'cpu') throw new Error('--device: finetune runs on the CPU only (svm, probe, knn and retrieval take --device cuda)');
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const seed = seedFlag(values.seed);
  const testFolds = values['test-folds'] ? numberList(values['test-folds'], '--test-folds') : undefined;
  const batchSize = positiveInt(values['batch-size'], '--batch-size');
  const frontend = frontendFlag(values);
  const audioStatsFile = values['audio-stats'];

  if (protocol === 'retrieval') {
    const r = await runRetrieval({ checkpoint: input, random, data: values.data, clipsPerVideo: positiveInt(values.clips, '--clips'), batchSize, seed, device, frontend, audioStatsFile, log });
    const row = (name: string, x: typeof r.results.videoToAudio) => [name, percent(x.recall[1]), percent(x.recall[5]), percent(x.recall[10]), x.medianRank];
    const table = { headers: ['direction', 'R@1 %', 'R@5 %', 'R@10 %', 'median rank'], rows: [row('video→audio', r.results.videoToAudio), row('audio→video', r.results.audioToVideo)] };
    const written = writeEvaluationResults(destination, { name: 'retrieval', title: `Cross-modal retrieval on ${path.basename(values.data)} (${r.videos} videos)`, details: r, table });
    console.log(formatTable(table.headers, table.rows, { decimals: 1 }));
    console.log(`\n${r.videos} videos (chance R@1 ${percent(1 / r.videos)}%); results: ${written.join(', ')}`);
    return 0;
  }
  if (protocol === 'finetune') {
    const modality = oneOf(values.modality, '--modality', ['audio', 'video'] as const);
    const splits = oneOf(values.splits, '--splits', ['auto', 'folds', 'given'] as const);
    const name = `finetune-${modality}`;
    const saveDir = values.save ?? destination.detailsDir;
    mkdirSync(saveDir, { recursive: true });
    const stem = values.out ? path.basename(values.out).replace(/\.json$/, '') : name;
    const { result, table } = await runFinetune({
      checkpoint: input,
      random,
      frontend,
      audioStatsFile,
      data: values.data,
      labels: values.labels,
      modality,
      epochs: positiveInt(values.epochs, '--epochs'),
      lr: positiveNumber(values.lr, '--lr'),
      weightDecay: nonNegativeNumber(values['weight-decay'], '--weight-decay'),
      dropout: fraction(values.dropout, '--dropout'),
      testClips: positiveInt(values.clips, '--clips'),
      trainClips: positiveInt(values['train-clips'], '--train-clips'),
      batchSize,
      splits,
      testFolds,
      seed,
      saveDir,
      stem,
      log,
    });
    const written = writeEvaluationResults(destination, { name, title: `Fine-tuning the ${modality} encoder on ${path.basename(values.data)}`, details: result, table });
    console.log(formatTable(table.headers, table.rows, { decimals: 1 }));
    console.log(`\nresults: ${written.join(', ')}`);
    return 0;
  }
  const { result, table, headline } = await runAudioProtocol(protocol as AudioProtocol, {
    checkpoint: input,
    random,
    frontend,
    audioStatsFile,
    data: values.data,
    labels: values.labels,
    blocks: values.blocks.split(',').map((b) => b.trim()),
    clipsPerSample: positiveInt(values.clips, '--clips'),
    clipSeconds: values['clip-seconds'] === undefined ? undefined : positiveNumber(values['clip-seconds'], '--clip-seconds'),
    sampleRate: values['sample-rate'] === undefined ? undefined : positiveInt(values['sample-rate'], '--sample-rate'),
    hopSeconds: values['hop-seconds'] === undefined ? undefined : positiveNumber(values['hop-seconds'], '--hop-seconds'),
    batchSize,
    cacheDir: values['no-cache'] ? undefined : values.cache,
    seed,
    testFolds,
    device,
    svm: { cGrid: numberList(values['c-grid'], '--c-grid'), tolerance: positiveNumber(values.tolerance, '--tolerance'), maxIterations: positiveInt(values['max-iterations'], '--max-iterations') },
    k: positiveInt(values.k, '--k'),
    log,
  });
  const titles: Record<AudioProtocol, string> = { svm: 'SVM sound classification', probe: 'Linear probe, sound classification', knn: 'k-NN sound classification' };
  const name = protocol === 'probe' ? 'audio-probe' : protocol;
  const written = writeEvaluationResults(destination, { name, title: `${titles[protocol as AudioProtocol]} on ${path.basename(path.resolve(values.data))}`, details: result, table, evaluation: headline });
  console.log(formatTable(table.headers, table.rows, { decimals: 1 }));
  console.log(`\nresults: ${written.join(', ')}`);
  return 0;
}
