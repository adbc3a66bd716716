// Gradient checking by finite differences, in float64. The scalar checked is Σ output ⊙ R for a fixed random
// R (not a plain sum): a plain sum hides errors whose gradient sums to zero, which is exactly what batch norm's
// and logSoftmax's are. For every input that requires grad, the autograd gradient of that scalar is compared
// with central differences (f(x + ε) − f(x − ε)) / 2ε, element by element.
import * as T from '../../src/tensor/index.js';

export interface GradcheckOptions {
  /** Finite-difference step. */
  eps?: number;
  /** An element passes when |analytic − numeric| ≤ atol + rtol·|numeric|. */
  atol?: number;
  rtol?: number;
  /** Seed of the projection R. */
  seed?: number;
}

export interface GradcheckResult {
  ok: boolean;
  /** Largest |analytic − numeric| over all checked elements. */
  maxAbsError: number;
  /** Elements checked, over all inputs. */
  checked: number;
  /** The first few mismatches, as "input k [flat index]: analytic a, numeric n". */
  failures: string[];
}

/**
 * Checks the gradients of `fn` at `inputs` (float64 tensors; those with requiresGrad are checked). `fn` must be
 * deterministic and must not modify its inputs. Creates no tensor that outlives the call.
 */
export function gradcheck(fn: (...inputs: T.Tensor[]) => T.Tensor, inputs: T.Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-4;
  for (const [k, x] of inputs.entries()) {
    if (x.requiresGrad && x.dtype !== 'float64') throw new Error(`gradcheck: input ${k} is ${x.dtype}; finite differences need float64`);
  }
  return T.tidy(() => {
    const probe = T.noGrad(() => fn(...inputs));
    if (probe.dtype !== 'float64') throw new Error(`gradcheck: the function returned ${probe.dtype}; it must compute in float64`);
    const projection = T.randn(probe.shape, { dtype: 'float64', generator: new T.Generator(options.seed ?? 1234) });
    const objective = (args: T.Tensor[]) => fn(...args).mul(projection).sum();

    // Analytic: one backward pass through fresh leaves (so gradients already on the inputs do not interfere).
    const leaves = inputs.map((x) => (x.requiresGrad ? x.detach().requiresGrad_(true) : x));
    objective(leaves).backward();
    const analytic = leaves.map((leaf, k) => (inputs[k].requiresGrad ? (leaf.grad ?? T.zerosLike(leaf)) : null));

    const result: GradcheckResult = { ok: true, maxAbsError: 0, checked: 0, failures: [] };
    T.noGrad(() => {
      const constants = inputs.map((x) => x.detach());
      for (const [k, x] of inputs.entries()) {
        const grad = analytic[k];
        if (grad === null) continue;
        const base = x.data() as Float64Array;
        const exact = grad.data() as Float64Array;
        const evaluate = (data: Float64Array): number =>
          T.tidy(() => {
            const args = constants.slice();
            args[k] = T.tensor(data, x.shape);
            return objective(args).item();
          });
        for (let i = 0; i < base.length; i++) {
          const saved = base[i];
          base[i] = saved + eps;
          const plus = evaluate(base);
          base[i] = saved - eps;
          const minus = evaluate(base);
          base[i] = saved;
          const numeric = (plus - minus) / (2 * eps);
          const error = Math.abs(exact[i] - numeric);
          result.checked++;
          result.maxAbsError = Math.max(result.maxAbsError, error);
          if (!(error <= atol + rtol * Math.abs(numeric))) {
            result.ok = false;
            if (result.failures.length < 8) result.failures.push(`input ${k} [${i}]: analytic ${exact[i]}, numeric ${numeric}`);
          }
        }
      }
    });
    return result;
  });
}

/** Throws with the mismatches when `gradcheck` fails. */
export function assertGradcheck(name: string, fn: (...inputs: T.Tensor[]) => T.Tensor, inputs: T.Tensor[], options?: GradcheckOptions): GradcheckResult {
  const result = gradcheck(fn, inputs, options);
  if (!result.ok) {
    throw new Error(`gradcheck ${name} failed (max |error| ${result.maxAbsError.toExponential(2)}):\n  ${result.failures.join('\n  ')}`);
  }
  if (result.checked === 0) throw new Error(`gradcheck ${name}: no input requires grad, nothing was checked`);
  return result;
}
