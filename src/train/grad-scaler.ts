// Dynamic loss scaling with the semantics of torch.cuda.amp.GradScaler: the loss is multiplied by a scale
// before backward so that small float16 gradients do not underflow; the gradients are divided by it again
// (unscaled) before clipping and the optimizer step. A step whose gradients hold inf or NaN is skipped and
// the scale is halved (backoff); after `growthInterval` consecutive good steps the scale doubles (growth).
// The scale and the good-step count are saved in checkpoints, so a resumed run goes on with the same scale.
//
// The unscale-and-check is one native call over all gradients (the fused _amp_ kernel on CUDA; op by op on
// the CPU, for which libtorch 1.13 has no such kernel); the bookkeeping is plain numbers here, powers of two
// so exact.
import type { Tensor } from '../tensor/index.js';
import { native } from '../tensor/native.js';

export interface GradScalerOptions {
  /** Initial scale (PyTorch: 2^16). */
  initScale?: number;
  growthFactor?: number;
  backoffFactor?: number;
  /** Consecutive steps without inf/NaN gradients after which the scale grows (PyTorch: 2000). */
  growthInterval?: number;
}

export interface GradScalerState {
  scale: number;
  growthTracker: number;
  skippedSteps: number;
}

export class GradScaler {
  scale: number;
  /** Consecutive good steps since the last growth or backoff. */
  growthTracker = 0;
  /** Steps skipped so far because of inf/NaN gradients. */
  skippedSteps = 0;
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;

  constructor(options: GradScalerOptions = {}) {
    this.scale = options.initScale ?? 2 ** 16;
    this.growthFactor = options.growthFactor ?? 2;
    this.backoffFactor = options.backoffFactor ?? 0.5;
    this.growthInterval = options.growthInterval ?? 2000;
    if (!(this.scale > 0) || !Number.isFinite(this.scale)) throw new Error(`GradScaler: initScale must be a positive number, got ${options.initScale}`);
    if (!(this.growthFactor > 1)) throw new Error(`GradScaler: growthFactor must be above 1, got ${this.growthFactor}`);
    if (!(this.backoffFactor > 0 && this.backoffFactor < 1)) throw new Error(`GradScaler: backoffFactor must be in (0, 1), got ${this.backoffFactor}`);
    if (!Number.isInteger(this.growthInterval) || this.growthInterval < 1) throw new Error(`GradScaler: growthInterval must be a positive integer, got ${this.growthInterval}`);
  }

  /** The loss times the current scale (a new tensor); call backward() on it. */
  scaleLoss(loss: Tensor): Tensor {
    return loss.mul(this.scale);
  }

  /** Divides every gradient of `params` by the scale, in place; true when any gradient holds inf or NaN. */
  unscale(params: Tensor[]): boolean {
    return native.ampUnscaleGrads(
      params.map((p) => p.handle),
      1 / this.scale,
    ) as boolean;
  }

  /** Backoff after a bad step, growth after growthInterval good ones (torch._amp_update_scale_). */
  update(foundNonFinite: boolean): void {
    if (foundNonFinite) {
      this.scale *= this.backoffFactor;
      this.growthTracker = 0;
      this.skippedSteps += 1;
      return;
    }
    this.growthTracker += 1;
    if (this.growthTracker === this.growthInterval) {
      this.scale *= this.growthFactor;
      this.growthTracker = 0;
    }
  }

  /**
   * Unscales the gradients, then runs `optimizerStep` unless they hold inf/NaN (the step is skipped), and
   * updates the scale. Returns whether the step ran. In a data-parallel run call it after the gradient
   * all-reduce: every rank then sees the same gradients and makes the same decision.
   */
  step(params: Tensor[], optimizerStep: () => void): boolean {
    const bad = this.unscale(params);
    if (!bad) optimizerStep();
    this.update(bad);
    return !bad;
  }

  state(): GradScalerState {
    return { scale: this.scale, growthTracker: this.growthTracker, skippedSteps: this.skippedSteps };
  }

  loadState(state: Partial<GradScalerState>): void {
    if (typeof state.scale === 'number' && state.scale > 0) this.scale = state.scale;
    if (typeof state.growthTracker === 'number') this.growthTracker = state.growthTracker;
    if (typeof state.skippedSteps === 'number') this.skippedSteps = state.skippedSteps;
  }
}
