// The papers' published figures (/work/shared/spec/PAPERS.md), keyed by the setting that produced them, so that
// a run whose config names the setting it reproduces (`reproduces: [<setting id>]`) can be shown beside the
// paper's number — and only for an evaluation of the same protocol on the same benchmark. Pure data: the
// config schema checks setting ids against it, the report looks figures up in it.

/** Evaluation protocols a published figure (and a recorded result) can belong to. */
export const EVALUATION_PROTOCOLS = {
  'video-linear-probe': 'linear probe on frozen video features',
  'audio-linear-probe': 'linear probe on frozen audio features',
  'audio-svm': 'one-vs-rest linear SVM on frozen audio features',
  'video-finetune': 'fine-tuning the video encoder',
} as const;
export type EvaluationProtocol = keyof typeof EVALUATION_PROTOCOLS;

/** Benchmark datasets, by id, with the name a reader knows them by. */
export const BENCHMARKS = {
  'kinetics-400': 'Kinetics-400',
  'esc-50': 'ESC-50',
  'esc-10': 'ESC-10',
  'dcase2014': 'DCASE2014',
  'ucf-101': 'UCF-101',
  'hmdb-51': 'HMDB-51',
} as const;
export type BenchmarkId = keyof typeof BENCHMARKS;

/**
 * Which features the figure is read from: 'best' is the best of the per-block classifiers (as the papers
 * report linear probes), a block name is that block only (the SVM protocol's last conv block, conv5x), and
 * 'network' the whole fine-tuned network.
 */
export type FigureBlock = 'best' | 'conv5x' | 'network';

export interface PublishedFigure {
  /** Unique id, `<setting>/<evaluation>`. */
  id: string;
  evaluation: { protocol: EvaluationProtocol; benchmark: BenchmarkId; block: FigureBlock };
  /** Top-1 accuracy as a fraction, as published. */
  value: number;
  /** Where in the paper, as spec/PAPERS.md gives it. */
  source: string;
}

export interface PaperSetting {
  id: string;
  paper: string;
  /** The section or table of the setting. */
  section: string;
  /** The method as the paper names it. */
  method: string;
  /** Pre-training data. */
  pretraining: string;
  figures: PublishedFigure[];
}

const AVID_CMA = 'Morgado, Vasconcelos & Misra, Audio-Visual Instance Discrimination with Cross-Modal Agreement (CVPR 2021)';
const LONG_FORM = 'Watching Too Much Television is Good: self-supervised audio-visual representation learning from movies and TV shows';

function setting(s: Omit<PaperSetting, 'figures'>, figures: Array<Omit<PublishedFigure, 'id'> & { name: string }>): PaperSetting {
  return { ...s, figures: figures.map(({ name, ...f }) => ({ id: `${s.id}/${name}`, ...f })) };
}

/** The analysis setting's linear probes, "best block" (PAPERS.md, AVID §3: Kinetics and ESC). */
function analysisProbes(kinetics: number, esc: number | null, where: string): Array<Omit<PublishedFigure, 'id'> & { name: string }> {
  return [
    { name: 'kinetics-probe', evaluation: { protocol: 'video-linear-probe', benchmark: 'kinetics-400', block: 'best' }, value: kinetics, source: `${where}, Kinetics linear probe, best block` },
    // PAPERS.md writes "ESC": the paper's sound benchmark is ESC-50.
    ...(esc === null ? [] : [{ name: 'esc-probe', evaluation: { protocol: 'audio-linear-probe', benchmark: 'esc-50', block: 'best' } as const, value: esc, source: `${where}, ESC(-50) linear probe, best block` }]),
  ];
}

const analysis = (variant: string) => ({
  paper: AVID_CMA,
  section: '§3–4 analysis (supplement Table 7, "AVID §4")',
  method: `${variant}-AVID`,
  pretraining: 'AudioSet, 100K videos; R(2+1)D-10, 16×112²',
});

export const PAPER_SETTINGS: readonly PaperSetting[] = [
  setting({ id: 'avid-analysis-self', ...analysis('Self') }, analysisProbes(0.3208, 0.7264, 'AVID-CMA §3, Self-AVID')),
  setting({ id: 'avid-analysis-cross', ...analysis('Cross') }, analysisProbes(0.3995, 0.7505, 'AVID-CMA §3, Cross-AVID')),
  setting({ id: 'avid-analysis-joint', ...analysis('Joint') }, analysisProbes(0.3304, 0.7177, 'AVID-CMA §3, Joint-AVID')),
  setting(
    { id: 'cma-analysis', paper: AVID_CMA, section: '§4 (supplement Table 7, "CMA §5.3–5.4")', method: 'CMA from Cross-AVID at epoch 200', pretraining: 'AudioSet, 100K videos; R(2+1)D-10, 16×112²' },
    analysisProbes(0.4111, null, 'AVID-CMA §4, CMA'),
  ),
  setting(
    { id: 'avid-comparison-cross-audioset', paper: AVID_CMA, section: '§6 comparison (supplement Table 7, "AVID §6 AudioSet")', method: 'Cross-AVID', pretraining: 'AudioSet, 1.8M videos; R(2+1)D-18, 8×224²' },
    [
      { name: 'esc50-svm', evaluation: { protocol: 'audio-svm', benchmark: 'esc-50', block: 'conv5x' }, value: 0.892, source: 'AVID-CMA downstream protocols, Cross-AVID (AudioSet), ESC-50 SVM, mean of 5 folds' },
      { name: 'dcase-svm', evaluation: { protocol: 'audio-svm', benchmark: 'dcase2014', block: 'conv5x' }, value: 0.96, source: 'AVID-CMA downstream protocols, Cross-AVID (AudioSet), DCASE SVM' },
    ],
  ),
  setting(
    { id: 'avts-audioset-1.8m', paper: 'Korbar, Tran & Torresani, Cooperative Learning of Audio and Video Models from Self-Supervised Synchronization (NeurIPS 2018)', section: 'ESC-50 result; supplement Table 1', method: 'AVTS with curriculum', pretraining: 'AudioSet, 1.8M videos' },
    [{ name: 'esc50-svm', evaluation: { protocol: 'audio-svm', benchmark: 'esc-50', block: 'conv5x' }, value: 0.806, source: 'AVTS, ESC-50 linear SVM on conv5 features' }],
  ),
  setting(
    { id: 'long-form-movies-k16-wvideo', paper: LONG_FORM, section: 'best setting for HMDB and UCF (k = 16, w = Mₙ)', method: 'long-form sampling, in-batch contrastive loss', pretraining: 'movies (long videos), batch 512, 10 epochs' },
    [
      { name: 'ucf-finetune', evaluation: { protocol: 'video-finetune', benchmark: 'ucf-101', block: 'network' }, value: 0.863, source: 'long-form paper, movies, k = 16, w = Mₙ, UCF-101 fine-tuning' },
      { name: 'hmdb-finetune', evaluation: { protocol: 'video-finetune', benchmark: 'hmdb-51', block: 'network' }, value: 0.6292, source: 'long-form paper, movies, k = 16, w = Mₙ, HMDB-51 fine-tuning' },
      // Its ESC figure (88.33) is left out: spec/PAPERS.md does not say which ESC protocol it was measured with.
    ],
  ),
];

export const PAPER_SETTING_IDS = PAPER_SETTINGS.map((s) => s.id) as [string, ...string[]];

export function paperSetting(id: string): PaperSetting | undefined {
  return PAPER_SETTINGS.find((s) => s.id === id);
}
