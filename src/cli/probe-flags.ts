// The video/audio probe's recipe on the command line (eval-av): which trainer, and the reference recipe's
// epochs, learning rate and augmented training draws. Every error names the flag.
import { nonNegativeInt, oneOf, positiveInt, positiveNumber, seed as seedFlag } from './flags.js';
import { DEFAULT_AV_PROBE, type AVProbeSettings } from '../eval/av-evaluation.js';
import { PROBE_RECIPES } from '../eval/linear-probe.js';

export const PROBE_FLAGS = {
  probe: { type: 'string' },
  'probe-epochs': { type: 'string' },
  'probe-lr': { type: 'string' },
  'probe-draws': { type: 'string' },
  'probe-seed': { type: 'string' },
} as const;

export const PROBE_HELP = `  --probe fixed|reference    the probes' trainer (default ${DEFAULT_AV_PROBE.recipe}${DEFAULT_AV_PROBE.recipe === 'reference' ? `, ${DEFAULT_AV_PROBE.epochs ?? 12} epochs at lr ${DEFAULT_AV_PROBE.lr ?? 1e-4} over ${DEFAULT_AV_PROBE.draws ?? DEFAULT_AV_PROBE.epochs ?? 12} draws` : ''}). 'fixed': full-batch
                             logistic regression (Adam lr 0.01, 200 steps) on standardised features of the
                             evaluation clips, weight decay chosen on validation. 'reference': the reference's
                             linear evaluation (AVID-CMA 8x224x224-linear.yaml): BatchNorm1d → Linear, Adam,
                             weight decay 0, lr ×0.1 at half and three quarters of the epochs, batches of 64
                             (drop_last), and for video a fresh augmented clip (multi-scale crop, flip, colour
                             jitter) of every training video per epoch. docs/experiments/linear-probe-recipe.md
                             compares them.
  --probe-epochs N           reference recipe: epochs (the reference: 12)
  --probe-lr X               the probe's learning rate (reference recipe: 1e-4 in the reference)
  --probe-draws N            reference recipe: augmented training draws of the video probe, epoch e trains on
                             draw e mod N (default: one per epoch); 0 trains on the evaluation clips instead
  --probe-seed N             seed of the draws, the probe's initialisation and shuffles (default 0)`;

type ProbeFlagValues = { probe?: string; 'probe-epochs'?: string; 'probe-lr'?: string; 'probe-draws'?: string; 'probe-seed'?: string };

/** The probe settings of the flags; flags given without their recipe are errors. */
export function probeSettingsFlag(values: ProbeFlagValues): AVProbeSettings {
  const recipe = values.probe === undefined ? DEFAULT_AV_PROBE.recipe : oneOf(values.probe, '--probe', PROBE_RECIPES);
  const given = <K extends keyof ProbeFlagValues>(key: K) => values[key] !== undefined;
  if (recipe !== 'reference') {
    for (const key of ['probe-epochs', 'probe-draws'] as const) if (given(key)) throw new Error(`--${key} applies to --probe reference, not '${recipe}'`);
  }
  const defaults = recipe === DEFAULT_AV_PROBE.recipe ? DEFAULT_AV_PROBE : { recipe };
  return {
    ...defaults,
    recipe,
    ...(given('probe-epochs') ? { epochs: positiveInt(values['probe-epochs']!, '--probe-epochs') } : {}),
    ...(given('probe-lr') ? { lr: positiveNumber(values['probe-lr']!, '--probe-lr') } : {}),
    ...(given('probe-draws') ? { draws: nonNegativeInt(values['probe-draws']!, '--probe-draws') } : {}),
    ...(given('probe-seed') ? { seed: seedFlag(values['probe-seed']!, '--probe-seed') } : {}),
  };
}
