// Cross-validation splits. Outer splits follow the dataset's fold column (ESC: the fold in the file name;
// DCASE: the given split). Inner splits, used to choose hyper-parameters on training data only, are the
// remaining training folds when there are several, or a seeded group k-fold otherwise; either way a
// recording group never straddles an inner train/validation boundary.
import { seededRandom, shuffleInPlace } from '../data/rng.js';

export interface FoldSplit {
  /** The fold held out for testing (outer) or validation (inner). */
  heldOutFold: number;
  /** Indices into the entries array. */
  train: number[];
  test: number[];
}

interface FoldEntry {
  fold: number;
  group: string;
}

/** The distinct fold numbers, ascending. */
export function foldNumbers(entries: FoldEntry[]): number[] {
  return [...new Set(entries.map((e) => e.fold))].sort((a, b) => a - b);
}

/**
 * One split per fold: that fold is the test set, all others train. `testFolds` restricts which folds are
 * held out (DCASE-style given splits: only the official test fold).
 */
export function kFoldSplits(entries: FoldEntry[], testFolds?: number[]): FoldSplit[] {
  const folds = foldNumbers(entries);
  if (folds.length < 2) throw new Error(`cross-validation needs at least 2 folds, the labels have ${folds.length} (${folds.join(', ')})`);
  const held = testFolds ?? folds;
  for (const f of held) if (!folds.includes(f)) throw new Error(`test fold ${f} is not in the labels (folds: ${folds.join(', ')})`);
  return held.map((fold) => {
    const train: number[] = [];
    const test: number[] = [];
    entries.forEach((e, i) => (e.fold === fold ? test : train).push(i));
    return { heldOutFold: fold, train, test };
  });
}

/**
 * Splits `indices` (a training set) into `k` train/validation pairs with whole groups on one side:
 * groups are shuffled with `seed` and dealt round-robin, balancing the number of items per part.
 */
export function groupKFold(entries: FoldEntry[], indices: number[], k: number, seed: number): FoldSplit[] {
  const groups = new Map<string, number[]>();
  for (const i of indices) {
    const g = entries[i].group;
    let members = groups.get(g);
    if (!members) groups.set(g, (members = []));
    members.push(i);
  }
  if (groups.size < k) throw new Error(`group k-fold: ${groups.size} recording groups cannot make ${k} parts`);
  const order = [...groups.keys()].sort();
  shuffleInPlace(order, seededRandom(seed));
  // Largest groups first, each into the currently smallest part, so that parts are of similar size.
  order.sort((a, b) => groups.get(b)!.length - groups.get(a)!.length);
  const parts: number[][] = Array.from({ length: k }, () => []);
  for (const g of order) {
    let smallest = 0;
    for (let p = 1; p < k; p++) if (parts[p].length < parts[smallest].length) smallest = p;
    parts[smallest].push(...groups.get(g)!);
  }
  return parts.map((validation, p) => {
    const held = new Set(validation);
    return {
      heldOutFold: p,
      train: indices.filter((i) => !held.has(i)),
      test: validation.slice().sort((a, b) => a - b),
    };
  });
}

/**
 * Inner cross-validation splits within a training set: leave-one-fold-out over the training folds when
 * there are at least 2 of them, otherwise a group k-fold with `k` parts.
 */
export function innerSplits(entries: FoldEntry[], trainIndices: number[], k = 4, seed = 0): FoldSplit[] {
  const folds = [...new Set(trainIndices.map((i) => entries[i].fold))].sort((a, b) => a - b);
  if (folds.length >= 2) {
    return folds.map((fold) => ({
      heldOutFold: fold,
      train: trainIndices.filter((i) => entries[i].fold !== fold),
      test: trainIndices.filter((i) => entries[i].fold === fold),
    }));
  }
  return groupKFold(entries, trainIndices, k, seed);
}

/** Throws when a recording group appears on both sides of a split (a leak). */
export function assertNoGroupLeak(entries: FoldEntry[], split: FoldSplit): void {
  const trainGroups = new Set(split.train.map((i) => entries[i].group));
  for (const i of split.test) {
    if (trainGroups.has(entries[i].group)) {
      throw new Error(`split holding out ${split.heldOutFold}: recording group '${entries[i].group}' is in both train and test`);
    }
  }
}

/**
 * The dataset's given train/test split (a 'split' column) as one split: every entry marked 'test' is held
 * out, every other entry trains. Throws when no entry is marked, or a recording group straddles the split.
 */
export function givenSplit(entries: (FoldEntry & { split?: 'train' | 'test' })[]): FoldSplit {
  const train: number[] = [];
  const test: number[] = [];
  entries.forEach((e, i) => (e.split === 'test' ? test : train).push(i));
  if (test.length === 0 || train.length === 0) throw new Error(`the given split has ${train.length} training and ${test.length} test entries; both must be non-empty`);
  const split = { heldOutFold: -1, train, test };
  assertNoGroupLeak(entries, split);
  return split;
}
