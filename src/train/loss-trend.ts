// A loss that climbs for epoch after epoch means the objective is not being optimised (a learning rate too
// high for the data, a memory bank chasing a collapsed encoder: Self-AVID on a tiny world climbed from 15 to
// about 2,000 in 25 epochs while its features fell to chance). The run goes on (a short rise can be benign,
// CMA's re-mining makes one), but the user is told, on stderr and in metrics.jsonl.

/** How many epochs in a row, up to the last, ended with a higher mean loss than the epoch before. */
export function risingStreak(epochLosses: readonly number[]): number {
  let streak = 0;
  for (let i = epochLosses.length - 1; i > 0 && epochLosses[i] > epochLosses[i - 1]; i--) streak++;
  return streak;
}

/**
 * The warning to give after the last epoch of `epochLosses` (their mean losses, oldest first), or null: given
 * once per climb, when the streak of rises reaches `window` epochs (0 never warns).
 */
export function risingLossWarning(epochLosses: readonly number[], window: number, firstEpoch = 0): string | null {
  if (!(window > 0) || risingStreak(epochLosses) !== window) return null;
  const last = epochLosses.length - 1;
  const from = epochLosses[last - window];
  const to = epochLosses[last];
  return (
    `warning: the mean loss rose in each of the last ${window} epochs (epoch ${firstEpoch + last - window} → ${firstEpoch + last}: ` +
    `${from.toPrecision(4)} → ${to.toPrecision(4)}): training is not reducing the objective. Check optim.lr and, for memory-bank ` +
    `objectives, whether the embeddings collapsed (see docs/experiments/self-avid-health.md); train.warnRisingLossEpochs sets this window.`
  );
}
