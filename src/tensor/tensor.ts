// The Tensor class: a thin, typed wrapper over a native libtorch tensor handle.
import { native, type Handle } from './native.js';
import { type DType, type Device, type AnyTypedArray, viewBytes } from './dtype.js';
import { adopt, unregister, setTensorPredicate, type Scope, type Owned } from './scope.js';

export type TensorLike = Tensor | number | boolean;

export class Tensor {
  // A handle is a number (see native/common.h); -1 once disposed. Ownership (_owner, _registered) is
  // managed by scope.ts, which reaches these private fields through its `Owned` view.
  private _handle: number;
  private _owner: Scope | null = null;
  private _registered = false;
  private _shape: number[] | undefined = undefined;

  /** Wraps a native handle; the new tensor joins the innermost open `tidy` scope. */
  constructor(handle: Handle) {
    this._handle = handle;
    adopt(this);
  }

  static wrap(handle: Handle): Tensor {
    return new Tensor(handle);
  }

  get handle(): Handle {
    const h = this._handle;
    if (h < 0) throw new Error('Tensor was disposed and cannot be used');
    return h;
  }

  get isDisposed(): boolean {
    return this._handle < 0;
  }

  /** Frees the native memory now (idempotent). */
  dispose(): void {
    const h = this._handle;
    if (h < 0) return;
    this._handle = -1;
    this._owner = null; // a disposed tensor that is still referenced must not keep its old scope's list alive
    if (this._registered) unregister(this as unknown as Owned);
    native.dispose(h);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- metadata -------------------------------------------------------------------------------------
  get shape(): number[] {
    if (this._shape === undefined) this._shape = native.shape(this.handle) as number[];
    return this._shape.slice();
  }
  get ndim(): number {
    return this.shape.length;
  }
  get dtype(): DType {
    return native.dtype(this.handle) as DType;
  }
  get device(): Device {
    return native.device(this.handle) as Device;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  size(dim: number): number {
    const s = this.shape;
    return s[dim < 0 ? s.length + dim : dim];
  }
  isContiguous(): boolean {
    return native.isContiguous(this.handle);
  }
  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }

  // ---- reading back ---------------------------------------------------------------------------------
  /** Copies the data to a typed array (row-major, contiguous); complex tensors read as interleaved re/im. */
  data(): AnyTypedArray {
    return viewBytes(native.toArrayBuffer(this.handle), this.dtype);
  }
  /** Data as a Float32Array whatever the dtype. */
  toFloat32Array(): Float32Array {
    if (this.dtype === 'float32') return this.data() as Float32Array;
    const t = this.to('float32');
    try {
      return t.data() as Float32Array;
    } finally {
      t.dispose();
    }
  }
  /** Data as plain numbers (int64 converted with Number). */
  toArray(): number[] {
    const d = this.data();
    return Array.from(d as ArrayLike<number | bigint>, (v) => Number(v));
  }
  item(): number {
    return Number(native.item(this.handle));
  }

  // ---- conversion -----------------------------------------------------------------------------------
  to(dtype?: DType | null, device?: Device | null, nonBlocking = false): Tensor {
    return new Tensor(native.to(this.handle, dtype ?? undefined, device ?? undefined, nonBlocking));
  }
  float(): Tensor {
    return this.to('float32');
  }
  long(): Tensor {
    return this.to('int64');
  }
  cpu(): Tensor {
    return this.to(null, 'cpu');
  }
  clone(): Tensor {
    return new Tensor(native.clone(this.handle));
  }
  /** A second handle to the same tensor (shares storage and autograd identity). */
  alias(): Tensor {
    return new Tensor(native.alias(this.handle));
  }
  pinMemory(): Tensor {
    return new Tensor(native.pinMemory(this.handle));
  }

  // ---- views and indexing ---------------------------------------------------------------------------
  reshape(shape: number[]): Tensor {
    return new Tensor(native.reshape(this.handle, shape));
  }
  view(shape: number[]): Tensor {
    return new Tensor(native.view(this.handle, shape));
  }
  permute(dims: number[]): Tensor {
    return new Tensor(native.permute(this.handle, dims));
  }
  transpose(a: number, b: number): Tensor {
    return new Tensor(native.transpose(this.handle, a, b));
  }
  get T(): Tensor {
    return this.transpose(0, 1);
  }
  contiguous(): Tensor {
    return new Tensor(native.contiguous(this.handle));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return new Tensor(native.narrow(this.handle, dim, start, length));
  }
  slice(dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
    return new Tensor(native.slice(this.handle, dim, start ?? undefined, end ?? undefined, step));
  }
  select(dim: number, index: number): Tensor {
    return new Tensor(native.select(this.handle, dim, index));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return new Tensor(native.indexSelect(this.handle, dim, index.handle));
  }
  /** Advanced indexing: one index tensor (or null for a full slice) per leading dimension. */
  index(indices: (Tensor | null)[]): Tensor {
    return new Tensor(native.index(this.handle, indices.map((t) => (t ? t.handle : null))));
  }
  indexPut_(indices: (Tensor | null)[], values: Tensor, accumulate = false): this {
    native.indexPut_(this.handle, indices.map((t) => (t ? t.handle : null)), values.handle, accumulate);
    return this;
  }
  indexCopy_(dim: number, index: Tensor, source: Tensor): this {
    native.indexCopy_(this.handle, dim, index.handle, source.handle);
    return this;
  }
  indexAdd_(dim: number, index: Tensor, source: Tensor, alpha = 1): this {
    native.indexAdd_(this.handle, dim, index.handle, source.handle, alpha);
    return this;
  }
  indexFill_(dim: number, index: Tensor, value: number): this {
    native.indexFill_(this.handle, dim, index.handle, value);
    return this;
  }
  gather(dim: number, index: Tensor): Tensor {
    return new Tensor(native.gather(this.handle, dim, index.handle));
  }
  scatter(dim: number, index: Tensor, src: Tensor | number): Tensor {
    return new Tensor(
      src instanceof Tensor ? native.scatter(this.handle, dim, index.handle, src.handle) : native.scatterScalar(this.handle, dim, index.handle, src),
    );
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return new Tensor(native.scatterAdd(this.handle, dim, index.handle, src.handle));
  }
  scatter_(dim: number, index: Tensor, src: Tensor | number): this {
    if (src instanceof Tensor) native.scatter_(this.handle, dim, index.handle, src.handle);
    else native.scatterScalar_(this.handle, dim, index.handle, src);
    return this;
  }
  maskedFill_(mask: Tensor, value: number): this {
    native.maskedFill_(this.handle, mask.handle, value);
    return this;
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return new Tensor(native.maskedFill(this.handle, mask.handle, value));
  }
  maskedSelect(mask: Tensor): Tensor {
    return new Tensor(native.maskedSelect(this.handle, mask.handle));
  }
  nonzero(): Tensor {
    return new Tensor(native.nonzero(this.handle));
  }
  expand(shape: number[]): Tensor {
    return new Tensor(native.expand(this.handle, shape));
  }
  expandAs(other: Tensor): Tensor {
    return this.expand(other.shape);
  }
  repeat(repeats: number[]): Tensor {
    return new Tensor(native.repeat(this.handle, repeats));
  }
  repeatInterleave(repeats: number, dim?: number): Tensor {
    return new Tensor(native.repeatInterleave(this.handle, repeats, dim));
  }
  squeeze(dim?: number): Tensor {
    return new Tensor(native.squeeze(this.handle, dim));
  }
  unsqueeze(dim: number): Tensor {
    return new Tensor(native.unsqueeze(this.handle, dim));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return new Tensor(native.flatten(this.handle, startDim, endDim));
  }
  flip(dims: number[]): Tensor {
    return new Tensor(native.flip(this.handle, dims));
  }
  roll(shifts: number[], dims: number[]): Tensor {
    return new Tensor(native.roll(this.handle, shifts, dims));
  }
  split(size: number, dim = 0): Tensor[] {
    return (native.split(this.handle, size, dim) as Handle[]).map(Tensor.wrap);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return (native.chunk(this.handle, chunks, dim) as Handle[]).map(Tensor.wrap);
  }
  unbind(dim = 0): Tensor[] {
    return (native.unbind(this.handle, dim) as Handle[]).map(Tensor.wrap);
  }
  tril(diagonal = 0): Tensor {
    return new Tensor(native.tril(this.handle, diagonal));
  }
  triu(diagonal = 0): Tensor {
    return new Tensor(native.triu(this.handle, diagonal));
  }

  // ---- pointwise ------------------------------------------------------------------------------------
  add(other: TensorLike, alpha = 1): Tensor {
    if (other instanceof Tensor) {
      return new Tensor(alpha === 1 ? native.add(this.handle, other.handle) : native.add(this.handle, other.handle, alpha));
    }
    return new Tensor(native.addScalar(this.handle, other, alpha));
  }
  sub(other: TensorLike, alpha = 1): Tensor {
    if (other instanceof Tensor) {
      return new Tensor(alpha === 1 ? native.sub(this.handle, other.handle) : native.sub(this.handle, other.handle, alpha));
    }
    return new Tensor(native.subScalar(this.handle, other, alpha));
  }
  mul(other: TensorLike): Tensor {
    return new Tensor(other instanceof Tensor ? native.mul(this.handle, other.handle) : native.mulScalar(this.handle, other));
  }
  div(other: TensorLike): Tensor {
    return new Tensor(other instanceof Tensor ? native.div(this.handle, other.handle) : native.divScalar(this.handle, other));
  }
  pow(exponent: TensorLike): Tensor {
    return new Tensor(exponent instanceof Tensor ? native.pow(this.handle, exponent.handle) : native.powScalar(this.handle, exponent));
  }
  remainder(other: TensorLike): Tensor {
    return new Tensor(other instanceof Tensor ? native.remainder(this.handle, other.handle) : native.remainderScalar(this.handle, other));
  }
  fmod(other: TensorLike): Tensor {
    return new Tensor(other instanceof Tensor ? native.fmod(this.handle, other.handle) : native.fmodScalar(this.handle, other));
  }
  eq(other: TensorLike): Tensor {
    return new Tensor(other instanceof Tensor ? native.eq(this.handle, other.handle) : native.eqScalar(this.handle, other));
  }
  ne(other: TensorLike): Tensor {
    return new Tensor(other instanceof Tensor ? native.ne(this.handle, other.handle) : native.neScalar(this.handle, other));
  }
  lt(other: TensorLike): Tensor {
    return new Tensor(other instanceof Tensor ? native.lt(this.handle, other.handle) : native.ltScalar(this.handle, other));
  }
  le(other: TensorLike): Tensor {
    return new Tensor(other instanceof Tensor ? native.le(this.handle, other.handle) : native.leScalar(this.handle, other));
  }
  gt(other: TensorLike): Tensor {
    return new Tensor(other instanceof Tensor ? native.gt(this.handle, other.handle) : native.gtScalar(this.handle, other));
  }
  ge(other: TensorLike): Tensor {
    return new Tensor(other instanceof Tensor ? native.ge(this.handle, other.handle) : native.geScalar(this.handle, other));
  }
  minimum(other: Tensor): Tensor {
    return new Tensor(native.minimum(this.handle, other.handle));
  }
  maximum(other: Tensor): Tensor {
    return new Tensor(native.maximum(this.handle, other.handle));
  }
  minimum_(other: Tensor): this {
    native.minimum_(this.handle, other.handle);
    return this;
  }
  maximum_(other: Tensor): this {
    native.maximum_(this.handle, other.handle);
    return this;
  }
  logicalAnd(other: Tensor): Tensor {
    return new Tensor(native.logicalAnd(this.handle, other.handle));
  }
  logicalOr(other: Tensor): Tensor {
    return new Tensor(native.logicalOr(this.handle, other.handle));
  }
  logicalNot(): Tensor {
    return new Tensor(native.logicalNot(this.handle));
  }
  clamp(min?: number | null, max?: number | null): Tensor {
    return new Tensor(native.clamp(this.handle, min ?? undefined, max ?? undefined));
  }
  lerp(end: Tensor, weight: number): Tensor {
    return new Tensor(native.lerp(this.handle, end.handle, weight));
  }
  exp(): Tensor {
    return new Tensor(native.exp(this.handle));
  }
  log(): Tensor {
    return new Tensor(native.log(this.handle));
  }
  log1p(): Tensor {
    return new Tensor(native.log1p(this.handle));
  }
  sqrt(): Tensor {
    return new Tensor(native.sqrt(this.handle));
  }
  rsqrt(): Tensor {
    return new Tensor(native.rsqrt(this.handle));
  }
  abs(): Tensor {
    return new Tensor(native.abs(this.handle));
  }
  neg(): Tensor {
    return new Tensor(native.neg(this.handle));
  }
  sign(): Tensor {
    return new Tensor(native.sign(this.handle));
  }
  square(): Tensor {
    return new Tensor(native.square(this.handle));
  }
  reciprocal(): Tensor {
    return new Tensor(native.reciprocal(this.handle));
  }
  sin(): Tensor {
    return new Tensor(native.sin(this.handle));
  }
  cos(): Tensor {
    return new Tensor(native.cos(this.handle));
  }
  floor(): Tensor {
    return new Tensor(native.floor(this.handle));
  }
  ceil(): Tensor {
    return new Tensor(native.ceil(this.handle));
  }
  round(): Tensor {
    return new Tensor(native.round(this.handle));
  }
  relu(): Tensor {
    return new Tensor(native.relu(this.handle));
  }
  sigmoid(): Tensor {
    return new Tensor(native.sigmoid(this.handle));
  }
  tanh(): Tensor {
    return new Tensor(native.tanh(this.handle));
  }
  logSigmoid(): Tensor {
    return new Tensor(native.logSigmoid(this.handle));
  }
  softplus(): Tensor {
    return new Tensor(native.softplus(this.handle));
  }
  isnan(): Tensor {
    return new Tensor(native.isnan(this.handle));
  }
  isfinite(): Tensor {
    return new Tensor(native.isfinite(this.handle));
  }
  real(): Tensor {
    return new Tensor(native.real(this.handle));
  }
  imag(): Tensor {
    return new Tensor(native.imag(this.handle));
  }

  // ---- in place (return this) -----------------------------------------------------------------------
  add_(other: TensorLike, alpha = 1): this {
    if (other instanceof Tensor) native.add_(this.handle, other.handle, alpha);
    else native.addScalar_(this.handle, other, alpha);
    return this;
  }
  sub_(other: TensorLike, alpha = 1): this {
    if (other instanceof Tensor) native.sub_(this.handle, other.handle, alpha);
    else native.subScalar_(this.handle, other, alpha);
    return this;
  }
  mul_(other: TensorLike): this {
    if (other instanceof Tensor) native.mul_(this.handle, other.handle);
    else native.mulScalar_(this.handle, other);
    return this;
  }
  div_(other: TensorLike): this {
    if (other instanceof Tensor) native.div_(this.handle, other.handle);
    else native.divScalar_(this.handle, other);
    return this;
  }
  pow_(exponent: TensorLike): this {
    if (exponent instanceof Tensor) native.pow_(this.handle, exponent.handle);
    else native.powScalar_(this.handle, exponent);
    return this;
  }
  clamp_(min?: number | null, max?: number | null): this {
    native.clamp_(this.handle, min ?? undefined, max ?? undefined);
    return this;
  }
  lerp_(end: Tensor, weight: number): this {
    native.lerp_(this.handle, end.handle, weight);
    return this;
  }
  addcmul_(a: Tensor, b: Tensor, value = 1): this {
    native.addcmul_(this.handle, a.handle, b.handle, value);
    return this;
  }
  addcdiv_(a: Tensor, b: Tensor, value = 1): this {
    native.addcdiv_(this.handle, a.handle, b.handle, value);
    return this;
  }
  copy_(src: Tensor): this {
    native.copy_(this.handle, src.handle);
    return this;
  }
  fill_(value: number): this {
    native.fill_(this.handle, value);
    return this;
  }
  zero_(): this {
    native.zero_(this.handle);
    return this;
  }
  relu_(): this {
    native.relu_(this.handle);
    return this;
  }
  sqrt_(): this {
    native.sqrt_(this.handle);
    return this;
  }
  exp_(): this {
    native.exp_(this.handle);
    return this;
  }
  neg_(): this {
    native.neg_(this.handle);
    return this;
  }
  uniform_(from = 0, to = 1, generator?: { handle: unknown }): this {
    native.uniform_(this.handle, from, to, generator?.handle);
    return this;
  }
  normal_(mean = 0, std = 1, generator?: { handle: unknown }): this {
    native.normal_(this.handle, mean, std, generator?.handle);
    return this;
  }

  // ---- reductions -----------------------------------------------------------------------------------
  sum(dims?: number | number[] | null, keepdim = false, dtype?: DType): Tensor {
    return new Tensor(native.sum(this.handle, dims ?? undefined, keepdim, dtype));
  }
  mean(dims?: number | number[] | null, keepdim = false): Tensor {
    return new Tensor(native.mean(this.handle, dims ?? undefined, keepdim));
  }
  prod(): Tensor {
    return new Tensor(native.prod(this.handle));
  }
  cumsum(dim: number): Tensor {
    return new Tensor(native.cumsum(this.handle, dim));
  }
  std(dims?: number | number[] | null, unbiased = true, keepdim = false): Tensor {
    return new Tensor(native.std(this.handle, dims ?? undefined, unbiased, keepdim));
  }
  var(dims?: number | number[] | null, unbiased = true, keepdim = false): Tensor {
    return new Tensor(native.var(this.handle, dims ?? undefined, unbiased, keepdim));
  }
  norm(p = 2, dims?: number | number[] | null, keepdim = false): Tensor {
    return new Tensor(native.norm(this.handle, p, dims ?? undefined, keepdim));
  }
  logsumexp(dims: number | number[], keepdim = false): Tensor {
    return new Tensor(native.logsumexp(this.handle, dims, keepdim));
  }
  /** The largest element (no dim). */
  max(): Tensor {
    return new Tensor(native.max(this.handle));
  }
  min(): Tensor {
    return new Tensor(native.min(this.handle));
  }
  /** Largest values along `dim` and their indices. */
  maxDim(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [v, i] = native.max(this.handle, dim, keepdim) as Handle[];
    return { values: new Tensor(v), indices: new Tensor(i) };
  }
  minDim(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [v, i] = native.min(this.handle, dim, keepdim) as Handle[];
    return { values: new Tensor(v), indices: new Tensor(i) };
  }
  amax(dims: number | number[], keepdim = false): Tensor {
    return new Tensor(native.amax(this.handle, dims, keepdim));
  }
  amin(dims: number | number[], keepdim = false): Tensor {
    return new Tensor(native.amin(this.handle, dims, keepdim));
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmax(this.handle, dim, keepdim));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmin(this.handle, dim, keepdim));
  }
  all(): Tensor {
    return new Tensor(native.all(this.handle));
  }
  any(): Tensor {
    return new Tensor(native.any(this.handle));
  }
  topk(k: number, dim = -1, largest = true, sorted = true): { values: Tensor; indices: Tensor } {
    const [v, i] = native.topk(this.handle, k, dim, largest, sorted) as Handle[];
    return { values: new Tensor(v), indices: new Tensor(i) };
  }
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    const [v, i] = native.sort(this.handle, dim, descending) as Handle[];
    return { values: new Tensor(v), indices: new Tensor(i) };
  }
  argsort(dim = -1, descending = false): Tensor {
    return new Tensor(native.argsort(this.handle, dim, descending));
  }

  // ---- linear algebra -------------------------------------------------------------------------------
  matmul(other: Tensor): Tensor {
    return new Tensor(native.matmul(this.handle, other.handle));
  }
  mm(other: Tensor): Tensor {
    return new Tensor(native.mm(this.handle, other.handle));
  }
  bmm(other: Tensor): Tensor {
    return new Tensor(native.bmm(this.handle, other.handle));
  }

  // ---- autograd -------------------------------------------------------------------------------------
  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }
  requiresGrad_(value = true): this {
    native.setRequiresGrad(this.handle, value);
    return this;
  }
  /** The accumulated gradient as a new handle (dispose it, or let the scope do it), or null. */
  get grad(): Tensor | null {
    const h = native.grad(this.handle) as Handle | null;
    return h === null ? null : new Tensor(h);
  }
  /** Sets (or with null clears) the gradient. */
  setGrad(value: Tensor | null): void {
    native.setGrad(this.handle, value ? value.handle : undefined);
  }
  retainGrad(): this {
    native.retainGrad(this.handle);
    return this;
  }
  get isLeaf(): boolean {
    return native.isLeaf(this.handle);
  }
  backward(gradient?: Tensor, retainGraph?: boolean): void {
    native.backward(this.handle, gradient?.handle, retainGraph);
  }
  detach(): Tensor {
    return new Tensor(native.detach(this.handle));
  }
  detach_(): this {
    native.detach_(this.handle);
    return this;
  }
}

setTensorPredicate((v: unknown): v is Tensor => v instanceof Tensor);
