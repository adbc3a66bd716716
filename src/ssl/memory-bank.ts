// A memory bank: one slowly moving, unit-norm embedding per training instance, rows indexed by the
// manifest's sample index. Updated by EMA then re-normalised: m̄ᵢ ← normalise(μ·m̄ᵢ + (1 − μ)·xᵢ).
import { Tensor, randn, randint, keep, tidy, noGrad, functional as F, Generator } from '../tensor/index.js';

export class MemoryBank {
  readonly bank: Tensor;

  constructor(
    readonly size: number,
    readonly dim: number,
    readonly momentum = 0.5,
    seed = 0,
  ) {
    if (!Number.isInteger(size) || size < 2) throw new Error(`memory bank needs at least 2 instances, got ${size}`);
    this.bank = keep(tidy(() => F.normalize(randn([size, dim], { generator: new Generator(seed) }), 2, 1)));
  }

  /** Rows for `indices` (int64, any shape) with the embedding dim appended; no gradient flows into the bank. */
  rows(indices: Tensor): Tensor {
    return tidy(() => this.bank.indexSelect(0, onDeviceOf(this.bank, indices.flatten())).reshape([...indices.shape, this.dim]));
  }

  /** EMA update of the rows of `indices` with `embeddings` (detached), then re-normalisation. */
  update(indices: Tensor, embeddings: Tensor): void {
    noGrad(() =>
      tidy(() => {
        const rows = onDeviceOf(this.bank, indices);
        const old = this.bank.indexSelect(0, rows);
        const mixed = old.mul(this.momentum).add(embeddings.detach().to(this.bank.dtype, this.bank.device), 1 - this.momentum);
        this.bank.indexCopy_(0, rows, F.normalize(mixed, 2, 1));
      }),
    );
  }

  /** Mean inner product of random pairs of distinct rows: near 0 when spread out, large when collapsed. */
  meanRandomPairSimilarity(pairs = 4096, seed = 1): number {
    return meanRandomPairSimilarity(this.bank, pairs, seed);
  }

  dispose(): void {
    this.bank.dispose();
  }
}

/** Mean inner product of random pairs of distinct rows of a (N, D) matrix (the collapse measure). */
export function meanRandomPairSimilarity(rows: Tensor, pairs = 4096, seed = 1): number {
  const n = rows.size(0);
  return tidy(() => {
    const g = new Generator(seed);
    const first = randint(0, n, [pairs], { generator: g });
    const second = first.add(randint(1, n, [pairs], { generator: g })).remainder(n);
    return rows.indexSelect(0, onDeviceOf(rows, first)).mul(rows.indexSelect(0, onDeviceOf(rows, second))).sum(1).mean().item();
  });
}

/** `indices` on the device of `target` (itself when already there; a new tensor in the caller's scope otherwise). */
function onDeviceOf(target: Tensor, indices: Tensor): Tensor {
  const device = target.device;
  return indices.device === device ? indices : indices.to(null, device);
}
