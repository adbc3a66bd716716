// Module: named parameters, buffers and sub-modules registered under explicit names, so that state-dict
// keys are exactly PyTorch's (own parameters, then own buffers, then children, in registration order).
import { Tensor, keep, noGrad } from '../tensor/index.js';

export type StateDict = Map<string, Tensor>;

export class StateDictError extends Error {
  constructor(
    readonly missing: string[],
    readonly unexpected: string[],
    readonly mismatched: string[],
  ) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing keys: ${missing.join(', ')}`);
    if (unexpected.length) parts.push(`unexpected keys: ${unexpected.join(', ')}`);
    if (mismatched.length) parts.push(`shape mismatches: ${mismatched.join('; ')}`);
    super(`state dict does not match the module: ${parts.join(' | ')}`);
  }
}

/** Tensors registered by modules built inside `buildModule` (innermost build), or null outside one. */
let registeredDuringBuild: Tensor[] | null = null;

/**
 * Builds a module tree and, if the build throws part-way (an allocation too large for the machine, a bad
 * option deep in the tree), disposes every parameter and buffer the finished part had registered: those
 * are kept outside any scope, so nothing else would free them before the garbage collector runs, and a
 * failed multi-GB build must not leave gigabytes behind.
 */
export function buildModule<M extends Module>(build: () => M): M {
  const outer = registeredDuringBuild;
  const mine: Tensor[] = [];
  registeredDuringBuild = mine;
  try {
    const module = build();
    outer?.push(...mine); // an enclosing build that fails later frees these too
    return module;
  } catch (error) {
    for (const t of mine) if (!t.isDisposed) t.dispose();
    throw error;
  } finally {
    registeredDuringBuild = outer;
  }
}

export abstract class Module {
  training = true;
  private readonly ownParameters = new Map<string, Tensor | null>();
  private readonly ownBuffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  /** Registers a trainable tensor under `name` (it becomes a leaf that requires grad, outside any scope). */
  protected registerParameter(name: string, value: Tensor | null): Tensor | null {
    if (value) {
      keep(value).requiresGrad_(true);
      registeredDuringBuild?.push(value);
    }
    this.ownParameters.set(name, value);
    return value;
  }
  protected registerBuffer(name: string, value: Tensor): Tensor {
    this.ownBuffers.set(name, keep(value));
    registeredDuringBuild?.push(value);
    return value;
  }
  protected registerModule<M extends Module>(name: string, module: M): M {
    this.children.set(name, module);
    return module;
  }

  namedChildren(): [string, Module][] {
    return [...this.children];
  }
  /** Every module in the tree with its dotted path ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.children) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, module] of this.namedModules(prefix)) {
      for (const [name, p] of module.ownParameters) if (p) out.push([path ? `${path}.${name}` : name, p]);
    }
    return out;
  }
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, module] of this.namedModules(prefix)) {
      for (const [name, b] of module.ownBuffers) out.push([path ? `${path}.${name}` : name, b]);
    }
    return out;
  }

  /** The module's tensors by PyTorch key (the live tensors, not copies: do not dispose them). */
  stateDict(prefix = ''): StateDict {
    const out: StateDict = new Map();
    const visit = (module: Module, path: string) => {
      const key = (name: string) => (path ? `${path}.${name}` : name);
      for (const [name, p] of module.ownParameters) if (p) out.set(key(name), p);
      for (const [name, b] of module.ownBuffers) out.set(key(name), b);
      for (const [name, child] of module.children) visit(child, key(name));
    };
    visit(this, prefix);
    return out;
  }

  /**
   * Copies values into the module's tensors (dtype converted). Strict by default: any missing key, unexpected
   * key or shape mismatch throws a StateDictError listing all of them, and nothing is changed.
   */
  loadStateDict(source: Map<string, Tensor> | Record<string, Tensor>, options: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    const strict = options.strict ?? true;
    const entries = source instanceof Map ? source : new Map(Object.entries(source));
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !entries.has(k));
    const unexpected = [...entries.keys()].filter((k) => !own.has(k));
    const mismatched: string[] = [];
    for (const [key, target] of own) {
      const value = entries.get(key);
      if (value && value.shape.join(',') !== target.shape.join(',')) {
        mismatched.push(`${key}: checkpoint [${value.shape.join(', ')}] vs module [${target.shape.join(', ')}]`);
      }
    }
    if (mismatched.length || (strict && (missing.length || unexpected.length))) {
      throw new StateDictError(strict ? missing : [], strict ? unexpected : [], mismatched);
    }
    noGrad(() => {
      for (const [key, target] of own) {
        const value = entries.get(key);
        if (value) target.copy_(value);
      }
    });
    return { missing, unexpected };
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  /** Clears every parameter's gradient (set to none, as PyTorch 2's default). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.setGrad(null);
  }
  /** Frees all parameters and buffers. */
  dispose(): void {
    for (const [, t] of this.stateDict()) t.dispose();
  }
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.numel, 0);
  }
}

/** A module with one tensor in and one tensor out: the building block of Sequential. */
export abstract class Layer extends Module {
  abstract forward(x: Tensor): Tensor;
}
