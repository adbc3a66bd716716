// The downstream-protocol flags the analyses share (ablate-epochs, ablate-data-size): which protocol, on what
// data, with which settings. They become one ProtocolSettings (src/analyses/protocol.ts), stored beside every
// result so that results of other settings are refused rather than mixed.
import { protocolSettings, ANALYSIS_PROTOCOLS, SVM_DEFAULTS, type ProtocolSettings, type ProtocolRuntime } from '../analyses/protocol.js';
import { positiveInt, positiveNumber, numberList, seed as seedFlag, oneOf } from './flags.js';

export const PROTOCOL_FLAGS = {
  protocol: { type: 'string' },
  data: { type: 'string' },
  labels: { type: 'string' },
  block: { type: 'string', default: 'conv5x' },
  modality: { type: 'string', default: 'audio' },
  clips: { type: 'string' },
  frontend: { type: 'string' },
  'c-grid': { type: 'string' },
  tolerance: { type: 'string' },
  'max-iterations': { type: 'string' },
  'test-folds': { type: 'string' },
  seed: { type: 'string', default: '0' },
  cache: { type: 'string', default: '.cache/eval-features' },
  'no-cache': { type: 'boolean', default: false },
  'batch-size': { type: 'string', default: '32' },
  threads: { type: 'string' },
} as const;

export const PROTOCOL_HELP = `protocol (the same for every network of the analysis; stored with each result):
  --protocol svm|probe|eval-av
                             svm: one-vs-rest linear SVM on audio block features, cross-validated over the
                             folds of --data (as \`avid eval svm\`); probe: logistic regression on the same
                             features (video@1); eval-av: linear probe (video@1) on the labelled videos of
                             --labels, train → test split (as \`avid eval-av\`)
  --data DIR                 svm, probe: the sounds (labels: --labels CSV, else ESC file names)
  --labels FILE              svm, probe: labels CSV of --data; eval-av: the labelled videos (required)
  --block B                  the block whose features are classified (default conv5x)
  --modality audio|video     eval-av: which encoder (default audio)
  --clips K                  clips per sample (default 10 for svm/probe, 2 for eval-av)
  --c-grid LIST, --tolerance T, --max-iterations N
                             svm solver (defaults ${SVM_DEFAULTS.cGrid.join(',')}; ${SVM_DEFAULTS.tolerance}; ${SVM_DEFAULTS.maxIterations})
  --test-folds LIST          svm, probe: hold out only these folds (default all)
  --frontend paper|reference the log spectrogram (default: the checkpoint's)
  --seed N                   the random init's seed and the solvers' (default 0)
  --cache DIR, --no-cache    svm, probe: the feature cache (default .cache/eval-features; one entry per checkpoint)
  --batch-size N             clips per forward pass (default 32)
  --threads N                libtorch threads`;

type ProtocolValues = { [K in keyof typeof PROTOCOL_FLAGS]?: string | boolean };

/** The settings and the runtime options of the protocol flags; errors name the flag. */
export function protocolFromFlags(values: ProtocolValues, log: (line: string) => void): { settings: ProtocolSettings; runtime: ProtocolRuntime; threads?: number } {
  const str = (k: keyof typeof PROTOCOL_FLAGS) => values[k] as string | undefined;
  if (!str('protocol')) throw new Error(`--protocol is required: one of ${ANALYSIS_PROTOCOLS.join(', ')}`);
  const protocol = oneOf(str('protocol')!, '--protocol', ANALYSIS_PROTOCOLS);
  const svmGiven = ['c-grid', 'tolerance', 'max-iterations'].filter((k) => str(k as keyof typeof PROTOCOL_FLAGS) !== undefined);
  if (protocol !== 'svm' && svmGiven.length) throw new Error(`${svmGiven.map((k) => `--${k}`).join(', ')}: only for --protocol svm`);
  const settings = protocolSettings({
    protocol,
    data: str('data'),
    labels: str('labels'),
    block: str('block'),
    clips: str('clips') === undefined ? undefined : positiveInt(str('clips')!, '--clips'),
    seed: seedFlag(str('seed') ?? '0'),
    testFolds: str('test-folds') === undefined ? undefined : numberList(str('test-folds')!, '--test-folds'),
    frontend: str('frontend'),
    modality: oneOf(str('modality') ?? 'audio', '--modality', ['audio', 'video'] as const),
    svm: {
      ...(str('c-grid') !== undefined ? { cGrid: numberList(str('c-grid')!, '--c-grid') } : {}),
      ...(str('tolerance') !== undefined ? { tolerance: positiveNumber(str('tolerance')!, '--tolerance') } : {}),
      ...(str('max-iterations') !== undefined ? { maxIterations: positiveInt(str('max-iterations')!, '--max-iterations') } : {}),
    },
  });
  const runtime: ProtocolRuntime = { cacheDir: values['no-cache'] ? undefined : str('cache'), batchSize: positiveInt(str('batch-size') ?? '32', '--batch-size'), log };
  return { settings, runtime, threads: str('threads') === undefined ? undefined : positiveInt(str('threads')!, '--threads') };
}
