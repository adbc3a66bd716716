// Runs Python snippets under Debian's /usr/bin/python3 (which has torch 1.13, the same libtorch as avid) for
// parity tests. Tensors travel through safetensors files: avid writes them with its own writer, Python reads
// them with the few lines of struct + json + torch.frombuffer below (no `safetensors` package needed), and the
// way back mirrors it. Tests that need Python skip with `pythonTorchSkipReason()` when it is unavailable.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as T from '../../src/tensor/index.js';
import { saveSafetensors, loadSafetensors } from '../../src/io/safetensors.js';

/**
 * Debian's interpreter with python3-torch, never the `python3` first on PATH (it may lack torch).
 * AVID_TEST_PYTHON points elsewhere, for a machine whose torch lives in another interpreter.
 */
export const PYTHON = process.env.AVID_TEST_PYTHON || '/usr/bin/python3';

/**
 * A minimal safetensors reader and writer in Python, written from the spec (not the `safetensors` package):
 * `load_st(path) -> (dict name→tensor, metadata)` and `save_st(path, dict, metadata=None)`.
 */
export const SAFETENSORS_PY = String.raw`
import json, struct, torch
ST_DTYPES = {'F64': torch.float64, 'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16,
             'I64': torch.int64, 'I32': torch.int32, 'I16': torch.int16, 'I8': torch.int8,
             'U8': torch.uint8, 'BOOL': torch.bool}
ST_NAMES = {v: k for k, v in ST_DTYPES.items()}

def load_st(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n].decode('utf-8'))
    meta = header.pop('__metadata__', {})
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        begin, end = info['data_offsets']
        dtype = ST_DTYPES[info['dtype']]
        if end > begin:
            flat = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype)
        else:
            flat = torch.empty(0, dtype=dtype)
        out[name] = flat.reshape(info['shape']).clone()
    return out, meta

def save_st(path, tensors, meta=None):
    header = {}
    if meta is not None:
        header['__metadata__'] = meta
    chunks, offset = [], 0
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        raw = bytes(t.reshape(-1).view(torch.uint8).numpy())
        header[name] = {'dtype': ST_NAMES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)
`;

let availability: string | null | undefined;

/** Null when /usr/bin/python3 imports torch; otherwise why not (for a test's `skip`). */
export function pythonTorchSkipReason(): string | null {
  if (availability !== undefined) return availability;
  const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.error) availability = `${PYTHON} cannot be run (${probe.error.message}): Python parity skipped`;
  else if (probe.status !== 0) {
    const why = probe.stderr.trim().split('\n').pop() || `exit status ${probe.status ?? probe.signal}`;
    availability = `${PYTHON} cannot import torch and numpy (${why}): Python parity skipped`;
  }
  else availability = null;
  return availability;
}

export interface PythonRunOptions {
  /** Arguments after the script (sys.argv[1:]). */
  args?: string[];
  /** Text written to the script's stdin. */
  stdin?: string;
  timeoutMs?: number;
  /** Extra environment variables (e.g. OMP_NUM_THREADS). */
  env?: Record<string, string>;
}

/** Runs `code` (the safetensors prelude is prepended) and returns its stdout; throws with stderr on failure. */
export function runPython(code: string, options: PythonRunOptions = {}): string {
  const result = spawnSync(PYTHON, ['-c', `${SAFETENSORS_PY}\n${code}`, ...(options.args ?? [])], {
    encoding: 'utf8',
    input: options.stdin,
    timeout: options.timeoutMs ?? 120_000,
    env: { ...process.env, ...options.env },
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.error) throw new Error(`${PYTHON} failed to run: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${PYTHON} exited with ${result.status ?? result.signal}:\n${result.stderr}`);
  }
  return result.stdout;
}

/** Runs `code` and parses the last line of its stdout as JSON. */
export function runPythonJson<R>(code: string, options: PythonRunOptions = {}): R {
  const lines = runPython(code, options).trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as R;
}

/**
 * Sends `inputs` to Python as the dict `inputs` (torch tensors, same names), runs `code`, which must fill the
 * dict `outputs` with tensors, and returns those as avid tensors (owned by the caller or the open tidy scope).
 * Python uses one thread unless told otherwise, so results do not depend on the machine's load.
 */
export function torchCompute(code: string, inputs: Record<string, T.Tensor> = {}, options: PythonRunOptions = {}): Map<string, T.Tensor> {
  const directory = mkdtempSync(path.join(tmpdir(), 'avid-py-'));
  try {
    const inputFile = path.join(directory, 'inputs.safetensors');
    const outputFile = path.join(directory, 'outputs.safetensors');
    saveSafetensors(inputFile, inputs);
    const script = path.join(directory, 'snippet.py');
    writeFileSync(script, code);
    const driver = [
      'import sys',
      'torch.set_num_threads(1)',
      'inputs, _ = load_st(sys.argv[1])',
      'outputs = {}',
      "exec(compile(open(sys.argv[3]).read(), 'snippet.py', 'exec'))",
      'save_st(sys.argv[2], outputs)',
    ].join('\n');
    runPython(driver, { ...options, args: [inputFile, outputFile, script] });
    return loadSafetensors(outputFile).tensors;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
