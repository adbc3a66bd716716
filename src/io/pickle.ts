// A restricted unpickler for the pickles inside PyTorch checkpoints. It never runs Python and never calls
// anything by name: a GLOBAL (or STACK_GLOBAL) is looked up in a short allow-list of the callables that
// tensors, ordered dicts and storages need, and anything else — `os.system`, `posix.system`,
// `builtins.eval`, a model class — is refused with an error naming it, at the opcode that names it, so
// before any REDUCE could apply it. The allowed callables are implemented here in TypeScript and only build
// plain values (Maps, arrays, tensor descriptions).
//
// Opcodes: those of protocols 2 to 4 that `torch.save` and Python's pickler emit for these objects (PyTorch
// writes protocol 2). Every length read from the data is checked against what is left before anything is
// allocated, so a hostile or truncated pickle fails with a clear error rather than reading out of range.

/** Tensor element types that PyTorch storages carry (the storage class names' stems). */
export type TorchDtype = 'float64' | 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** A reference to a storage class such as `torch.FloatStorage` or `torch.cuda.FloatStorage`. */
export class StorageType {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly dtype: TorchDtype,
  ) {}
}

/** A tensor as pickled: a view (offset, shape, strides, in elements) of a storage the caller resolves. */
export class PickledTensor {
  constructor(
    readonly storage: unknown,
    readonly storageOffset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

/** A Python tuple (kept apart from lists so that persistent ids and arguments read as Python wrote them). */
export class PickleTuple extends Array<PickleValue> {}

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | Map<PickleValue, PickleValue>
  | StorageType
  | PickledTensor
  | AllowedGlobal
  | unknown;

/** A callable from the allow-list, as it sits on the stack between GLOBAL and REDUCE. */
export class AllowedGlobal {
  constructor(
    readonly qualifiedName: string,
    readonly call: (args: PickleValue[]) => PickleValue,
  ) {}
}

export interface UnpickleOptions {
  /** Where the pickle comes from, for error messages (file and part). */
  source: string;
  /** Resolves a persistent id (BINPERSID); PyTorch uses them for storages. */
  persistentLoad?: (pid: PickleValue) => PickleValue;
}

export interface UnpickleResult {
  value: PickleValue;
  /** Offset just past the STOP opcode (legacy checkpoints hold several pickles in a row). */
  end: number;
}

const STORAGE_DTYPES: Record<string, TorchDtype> = {
  DoubleStorage: 'float64',
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** The whole allow-list: every global a PyTorch checkpoint of tensors, dicts and storages may name. */
function allowedGlobal(module: string, name: string, source: string): PickleValue {
  const qualified = `${module}.${name}`;
  if ((module === 'torch' || module === 'torch.cuda') && name in STORAGE_DTYPES) return new StorageType(module, name, STORAGE_DTYPES[name]);
  switch (qualified) {
    case 'collections.OrderedDict':
      return new AllowedGlobal(qualified, (args) => {
        const map = new Map<PickleValue, PickleValue>();
        // OrderedDict(iterable of pairs); Python's pickler passes () and fills the dict with SETITEMS.
        if (args.length > 0 && Array.isArray(args[0])) {
          for (const pair of args[0] as PickleValue[]) {
            if (!Array.isArray(pair) || pair.length !== 2) throw new Error(`${source}: OrderedDict expects (key, value) pairs`);
            map.set(pair[0] as PickleValue, pair[1] as PickleValue);
          }
        }
        return map;
      });
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2':
      // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
      return new AllowedGlobal(qualified, (args) => {
        if (args.length < 4) throw new Error(`${source}: ${qualified} needs at least 4 arguments, got ${args.length}`);
        const offset = smallInt(args[1], `${qualified} storage offset`, source);
        const shape = intList(args[2], `${qualified} size`, source);
        const stride = intList(args[3], `${qualified} stride`, source);
        if (shape.length !== stride.length) throw new Error(`${source}: ${qualified}: size has ${shape.length} dimensions but stride ${stride.length}`);
        return new PickledTensor(args[0], offset, shape, stride);
      });
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state':
      // (data, requires_grad, backward_hooks[, state]): a Parameter is its data here.
      return new AllowedGlobal(qualified, (args) => {
        if (!(args[0] instanceof PickledTensor)) throw new Error(`${source}: ${qualified} expects a tensor as its first argument`);
        return args[0];
      });
    default:
      throw new Error(`${source}: the pickle names the global '${qualified}', which is not allowed (a checkpoint needs only tensors, storages and ordered dicts; nothing was run)`);
  }
}

function smallInt(value: unknown, what: string, source: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new Error(`${source}: ${what} must be a non-negative integer, got ${String(value)}`);
  return value;
}

function intList(value: unknown, what: string, source: string): number[] {
  if (!Array.isArray(value)) throw new Error(`${source}: ${what} must be a tuple of integers`);
  return Array.from(value as unknown[], (v, i) => smallInt(v, `${what}[${i}]`, source));
}

class MarkSentinel {}
const MARK = new MarkSentinel();

/** Objects that take BUILD state here: ordered dicts carry `_metadata` (the state dict's version info). */
const attributes = new WeakMap<object, PickleValue>();

/** The attributes a BUILD opcode gave an object (e.g. a state dict's `_metadata`), if any. */
export function pickledAttributes(value: object): PickleValue | undefined {
  return attributes.get(value);
}

/** Unpickles one pickle starting at `start` in `bytes`. */
export function unpickle(bytes: Uint8Array, start: number, options: UnpickleOptions): UnpickleResult {
  const { source } = options;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pos = start;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();

  const fail = (message: string): never => {
    throw new Error(`${source}: ${message} (at byte ${pos})`);
  };
  const need = (n: number, what: string): void => {
    if (!Number.isSafeInteger(n) || n < 0 || pos + n > bytes.length) fail(`truncated: ${what} needs ${n} bytes but ${bytes.length - pos} are left`);
  };
  const u8 = (): number => {
    need(1, 'an opcode argument');
    return bytes[pos++];
  };
  const u16 = (): number => {
    need(2, 'a 2-byte argument');
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4, 'a 4-byte argument');
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4, 'a 4-byte argument');
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8, 'an 8-byte length');
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${v} is out of range`);
    return Number(v);
  };
  const take = (n: number, what: string): Uint8Array => {
    need(n, what);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const text = (n: number, what: string): string => {
    const raw = take(n, what);
    try {
      return decoder.decode(raw);
    } catch {
      return fail(`${what} is not valid UTF-8`);
    }
  };
  const line = (what: string): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail(`truncated: ${what} has no end of line`);
    const s = new TextDecoder('latin1').decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    if (marks.length === 0) fail('no MARK to pop to');
    const at = marks.pop()!;
    return stack.splice(at);
  };
  const memoGet = (key: number): unknown => {
    if (!memo.has(key)) fail(`memo ${key} was never stored`);
    return memo.get(key);
  };
  const littleEndianInt = (raw: Uint8Array): number | bigint => {
    if (raw.length === 0) return 0;
    let v = 0n;
    for (let i = raw.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]);
    if (raw[raw.length - 1] & 0x80) v -= 1n << BigInt(8 * raw.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const pushGlobal = (module: string, name: string): void => {
    stack.push(allowedGlobal(module, name, source));
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (!(target instanceof Map)) fail('SETITEM(S) on something that is not a dict');
    if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) (target as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]): void => {
    if (!Array.isArray(target) || target instanceof PickleTuple) fail('APPEND(S) on something that is not a list');
    (target as unknown[]).push(...items);
  };
  const tuple = (items: unknown[]): PickleTuple => {
    const t = new PickleTuple();
    t.push(...(items as PickleValue[]));
    return t;
  };

  for (;;) {
    if (pos >= bytes.length) fail('truncated: the pickle ends before its STOP opcode');
    const opcodeAt = pos;
    const op = bytes[pos++];
    switch (op) {
      case 0x80: { // PROTO
        const protocol = u8();
        if (protocol > 5) fail(`pickle protocol ${protocol} is not supported`);
        break;
      }
      case 0x95: // FRAME (protocol 4): the frame length only helps buffered readers
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length !== 0) fail(`STOP with ${stack.length} values on the stack`);
        return { value: stack[0] as PickleValue, end: pos };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (marks.length > 0 && stack.length === marks[marks.length - 1]) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: { // LONG1
        const n = u8();
        stack.push(littleEndianInt(take(n, 'LONG1')));
        break;
      }
      case 0x8b: { // LONG4
        const n = i32();
        if (n < 0 || n > 64) fail(`LONG4 of ${n} bytes (checkpoints hold no integers that large)`);
        stack.push(littleEndianInt(take(n, 'LONG4')));
        break;
      }
      case 0x47: { // BINFLOAT (big-endian)
        need(8, 'BINFLOAT');
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(text(u32(), 'BINUNICODE'));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8(), 'SHORT_BINUNICODE'));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64(), 'BINUNICODE8'));
        break;
      case 0x54: { // BINSTRING (Python 2 str; PyTorch decodes it as ASCII)
        const n = i32();
        if (n < 0) fail('BINSTRING with a negative length');
        stack.push(new TextDecoder('latin1').decode(take(n, 'BINSTRING')));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        stack.push(new TextDecoder('latin1').decode(take(u8(), 'SHORT_BINSTRING')));
        break;
      case 0x42: // BINBYTES
        stack.push(new Uint8Array(take(u32(), 'BINBYTES')));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(new Uint8Array(take(u8(), 'SHORT_BINBYTES')));
        break;
      case 0x8e: // BINBYTES8
        stack.push(new Uint8Array(take(u64(), 'BINBYTES8')));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: { // APPEND
        const item = pop();
        appendItems(top(), [item]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x29: // EMPTY_TUPLE
        stack.push(tuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(tuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(tuple([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b, c]));
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: { // DICT
        const map = new Map();
        setItems(map, popMark());
        stack.push(map);
        break;
      }
      case 0x73: { // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x63: { // GLOBAL: "module\nname\n"
        const module = line('GLOBAL module');
        const name = line('GLOBAL name');
        pushGlobal(module, name);
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        pushGlobal(module as string, name as string);
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const callable = pop();
        if (!(callable instanceof AllowedGlobal)) fail(`REDUCE on ${describe(callable)}, which is not an allowed callable`);
        if (!(args instanceof PickleTuple)) fail('REDUCE arguments are not a tuple');
        stack.push((callable as AllowedGlobal).call(args as PickleValue[]));
        break;
      }
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args); only ordered dicts are built this way here
        const args = pop();
        const cls = pop();
        if (!(cls instanceof AllowedGlobal) || cls.qualifiedName !== 'collections.OrderedDict') fail(`NEWOBJ of ${describe(cls)} is not allowed`);
        stack.push((cls as AllowedGlobal).call(args instanceof PickleTuple ? (args as PickleValue[]) : []));
        break;
      }
      case 0x62: { // BUILD: setstate; ordered dicts keep theirs (e.g. `_metadata`) aside
        const state = pop();
        const target = top();
        if (!(target instanceof Map)) fail(`BUILD on ${describe(target)} is not allowed`);
        attributes.set(target as object, state as PickleValue);
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!options.persistentLoad) fail('a persistent id where none is expected');
        stack.push(options.persistentLoad!(pid as PickleValue));
        break;
      }
      default:
        pos = opcodeAt;
        fail(`unknown or unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return 'None';
  if (value instanceof StorageType) return `${value.module}.${value.name}`;
  if (value instanceof AllowedGlobal) return value.qualifiedName;
  if (value instanceof PickledTensor) return 'a tensor';
  if (value instanceof Map) return 'a dict';
  if (Array.isArray(value)) return 'a list';
  return typeof value;
}
