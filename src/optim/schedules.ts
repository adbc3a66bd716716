// Learning-rate schedules as pure functions of the step: a resumed run recomputes the same value.
export type Schedule = (step: number) => number;

/** Multiplies by gamma at each milestone (torch MultiStepLR); steps are whatever unit the caller counts. */
export function multistep(milestones: number[], gamma: number): Schedule {
  return (step) => gamma ** milestones.filter((m) => step >= m).length;
}

/** Cosine from 1 down to minFactor over totalSteps (torch CosineAnnealingLR with eta_min = minFactor·lr). */
export function cosine(totalSteps: number, minFactor = 0): Schedule {
  return (step) => {
    const t = Math.min(step, totalSteps) / Math.max(1, totalSteps);
    return minFactor + (1 - minFactor) * 0.5 * (1 + Math.cos(Math.PI * t));
  };
}

/** Linear warm-up from startFactor to 1 over warmupSteps, then `after` (shifted to start at 0). */
export function linearWarmup(warmupSteps: number, startFactor: number, after: Schedule = () => 1): Schedule {
  return (step) => {
    if (step < warmupSteps) return startFactor + ((1 - startFactor) * step) / warmupSteps;
    return after(step - warmupSteps);
  };
}

export const constant: Schedule = () => 1;
