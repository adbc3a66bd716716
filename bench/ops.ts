// Per-call overhead of a tiny op, and conv3d forward+backward throughput, for avid and for python3-torch
// measured in the same run. Prints one JSON line.
//
// The PyTorch side runs as a child process that takes one command per line, so the two sides are measured
// alternately (avid, torch, avid, torch, ...): load from other processes on a shared machine then falls on
// both alike instead of on whichever happened to run second.
//
// Options: --threads 2  --runs 7  --iterations 200000  --chunk 1000  --conv-reps 5  --conv-warmup 1
//          --conv-input 8,64,8,28,28  --conv-weight 64,64,3,3,3  --conv-padding 1  --no-reference
import { parseArgs } from 'node:util';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PerformanceObserver } from 'node:perf_hooks';
import * as T from '../src/tensor/index.js';
import { native } from '../src/tensor/native.js';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    runs: { type: 'string', default: '7' },
    iterations: { type: 'string', default: '200000' },
    chunk: { type: 'string', default: '1000' },
    'conv-reps': { type: 'string', default: '5' },
    'conv-warmup': { type: 'string', default: '1' },
    'conv-input': { type: 'string', default: '8,64,8,28,28' },
    'conv-weight': { type: 'string', default: '64,64,3,3,3' },
    'conv-padding': { type: 'string', default: '1' },
    'no-reference': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.error('usage: npm run bench -- ops [--threads 2] [--runs 7] [--iterations 200000] [--chunk 1000] [--conv-reps 5] [--conv-input 8,64,8,28,28] [--conv-weight 64,64,3,3,3] [--conv-padding 1] [--no-reference]');
  process.exit(0);
}
const ints = (s: string) => s.split(',').map((v) => Number.parseInt(v, 10));
const cfg = {
  threads: Number(values.threads),
  runs: Number(values.runs),
  iterations: Number(values.iterations),
  chunk: Number(values.chunk),
  convReps: Number(values['conv-reps']),
  convWarmup: Number(values['conv-warmup']),
  convInput: ints(values['conv-input']!),
  convWeight: ints(values['conv-weight']!),
  convPadding: Number(values['conv-padding']),
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- the PyTorch side --------------------------------------------------------------------------------------
const REFERENCE_PY = String.raw`
import json, sys, time
import torch
import torch.nn.functional as F
torch.set_num_threads(int(sys.argv[1]))
conv = {}

def overhead(n):
    a, b = torch.rand(16), torch.rand(16)
    for _ in range(1000):
        c = a + b
    t0, c0 = time.perf_counter_ns(), time.process_time_ns()
    for _ in range(n):
        c = a + b  # rebinding c frees the previous result, as avid's dispose() does
    return [(time.perf_counter_ns() - t0) / n, (time.process_time_ns() - c0) / n]

def conv_setup(input_shape, weight_shape, padding):
    torch.manual_seed(0)
    conv['x'] = torch.randn(*input_shape).requires_grad_()
    conv['w'] = (torch.randn(*weight_shape) * 0.05).requires_grad_()
    conv['padding'] = padding
    y = F.conv3d(conv['x'], conv['w'], None, padding=padding)
    conv['g'] = torch.randn_like(y)
    return list(y.shape)

def conv_step():
    conv['x'].grad = None
    conv['w'].grad = None
    t0, c0 = time.perf_counter(), time.process_time()
    y = F.conv3d(conv['x'], conv['w'], None, padding=conv['padding'])
    y.backward(conv['g'])
    return [time.perf_counter() - t0, time.process_time() - c0]

print(json.dumps({'ready': torch.__version__, 'threads': torch.get_num_threads()}), flush=True)
for line in sys.stdin:
    cmd = json.loads(line)
    if cmd['op'] == 'overhead':
        out = overhead(cmd['n'])
    elif cmd['op'] == 'conv_setup':
        out = conv_setup(cmd['input'], cmd['weight'], cmd['padding'])
    elif cmd['op'] == 'conv_step':
        out = conv_step()
    else:
        raise ValueError(cmd)
    print(json.dumps({'result': out}), flush=True)
`;

class Reference {
  private child: ChildProcessWithoutNullStreams;
  private lines: AsyncIterableIterator<string>;
  private stderr = '';
  constructor(threads: number) {
    this.child = spawn('/usr/bin/python3', ['-c', REFERENCE_PY, String(threads)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d) => (this.stderr += d));
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }
  private async next(): Promise<Record<string, unknown>> {
    const { value, done } = await this.lines.next();
    if (done) throw new Error(`the python3-torch reference exited: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return JSON.parse(value);
  }
  async ready(): Promise<{ version: string; threads: number }> {
    const r = await this.next();
    return { version: r.ready as string, threads: r.threads as number };
  }
  async call<R>(cmd: Record<string, unknown>): Promise<R> {
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
    return (await this.next()).result as R;
  }
  close(): void {
    this.child.stdin.end();
  }
}

// ---- the avid side -----------------------------------------------------------------------------------------
/**
 * ns per `a.add(b)` with the result disposed at once, as real code does: wall time, and CPU time of the process
 * (which, on a machine shared with other work, is not inflated by waiting for a core).
 */
function avidOverhead(n: number): [number, number] {
  const a = T.rand([16]);
  const b = T.rand([16]);
  for (let i = 0; i < 1000; i++) a.add(b).dispose();
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) a.add(b).dispose();
  const cpu = process.cpuUsage(c0);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  a.dispose();
  b.dispose();
  return [ns, ((cpu.user + cpu.system) * 1000) / n];
}

/**
 * The same loop in chunks of `chunk` calls with a macrotask between them, as a training loop that awaits its
 * data loader runs: tensors made outside any tidy scope wait in the nursery until the job's microtasks run
 * (src/tensor/scope.ts), so this variant includes that bookkeeping at job boundaries.
 */
async function avidOverheadChunked(n: number, chunk: number): Promise<number> {
  const a = T.rand([16]);
  const b = T.rand([16]);
  let elapsed = 0n;
  for (let done = 0; done < n; done += chunk) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < chunk; i++) a.add(b).dispose();
    elapsed += process.hrtime.bigint() - t0;
    await new Promise((resolve) => setImmediate(resolve));
  }
  a.dispose();
  b.dispose();
  return Number(elapsed) / n;
}

/** The same op inside a tidy scope per call (the other memory discipline), for comparison. */
function avidOverheadTidy(n: number): number {
  const a = T.rand([16]);
  const b = T.rand([16]);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) T.tidy(() => void a.add(b));
  const ns = Number(process.hrtime.bigint() - t0) / n;
  a.dispose();
  b.dispose();
  return ns;
}

/** The same op through the addon directly (raw handles, no Tensor objects): the binding's share. */
function avidBindingOverhead(n: number): number {
  const a = T.rand([16]);
  const b = T.rand([16]);
  const [ha, hb] = [a.handle, b.handle];
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) native.dispose(native.add(ha, hb));
  const cpu = process.cpuUsage(c0);
  a.dispose();
  b.dispose();
  return ((cpu.user + cpu.system) * 1000) / n;
}

/** A native call that does no tensor work: the floor set by the Node-API boundary. */
function nativeCallFloor(n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) T.isGradEnabled();
  return Number(process.hrtime.bigint() - t0) / n;
}

function avidConvSetup() {
  T.manualSeed(0);
  const x = T.randn(cfg.convInput).requiresGrad_(true);
  const w = T.tidy(() => T.randn(cfg.convWeight).mul(0.05)).requiresGrad_(true);
  const outputShape = T.noGrad(() => T.tidy(() => T.functional.conv3d(x, w, null, { padding: cfg.convPadding }).shape));
  const g = T.randn(outputShape);
  /** [wall seconds, CPU seconds of the process] of one forward + backward. */
  const step = (): [number, number] => {
    x.setGrad(null);
    w.setGrad(null);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    T.tidy(() => T.functional.conv3d(x, w, null, { padding: cfg.convPadding }).backward(g));
    const cpu = process.cpuUsage(c0);
    return [(performance.now() - t0) / 1000, (cpu.user + cpu.system) / 1e6];
  };
  const dispose = () => [x, w, g].forEach((t) => t.dispose());
  return { step, dispose, outputShape };
}

// ---- run ---------------------------------------------------------------------------------------------------
T.setNumThreads(cfg.threads);
const reference = values['no-reference'] ? null : new Reference(cfg.threads);
let referenceInfo: { version: string; threads: number } | null = null;
let referenceError: string | null = null;
try {
  if (reference) referenceInfo = await reference.ready();
} catch (error) {
  referenceError = (error as Error).message;
}
const useReference = reference !== null && referenceError === null;

// Garbage-collection time inside the tight avid loops (the JavaScript objects of the results). GC entries
// arrive asynchronously, so they are matched to the loops' time windows afterwards.
const gcEntries: { start: number; duration: number }[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcEntries.push({ start: entry.startTime, duration: entry.duration });
});
gcObserver.observe({ entryTypes: ['gc'] });
const tightWindows: [number, number][] = [];

const avidNs: number[] = [];
const torchNs: number[] = [];
const avidCpuNs: number[] = [];
const torchCpuNs: number[] = [];
const avidChunkedNs: number[] = [];
const avidTidyNs: number[] = [];
const floorNs: number[] = [];
const bindingCpuNs: number[] = [];
for (let r = 0; r < cfg.runs; r++) {
  const start = performance.now();
  const [wall, cpu] = avidOverhead(cfg.iterations);
  tightWindows.push([start, performance.now()]);
  avidNs.push(wall);
  avidCpuNs.push(cpu);
  if (useReference) {
    const [torchWall, torchCpu] = await reference!.call<[number, number]>({ op: 'overhead', n: cfg.iterations });
    torchNs.push(torchWall);
    torchCpuNs.push(torchCpu);
  }
  avidChunkedNs.push(await avidOverheadChunked(cfg.iterations, cfg.chunk));
  avidTidyNs.push(avidOverheadTidy(cfg.iterations));
  floorNs.push(nativeCallFloor(cfg.iterations));
  bindingCpuNs.push(avidBindingOverhead(cfg.iterations));
}
await new Promise((resolve) => setTimeout(resolve, 100));
gcObserver.disconnect();
const gcMsInTightLoops = gcEntries
  .filter((e) => tightWindows.some(([from, to]) => e.start >= from && e.start <= to))
  .reduce((sum, e) => sum + e.duration, 0);
const gcNsPerOp = (gcMsInTightLoops * 1e6) / (cfg.iterations * cfg.runs);

// conv3d forward + backward (grad of input and weight): 3 × the forward's multiply-adds, 2 flops each.
const [n, cin, d, h, w] = cfg.convInput;
const [cout, , kd, kh, kw] = cfg.convWeight;
const avidConv = avidConvSetup();
const [, , od, oh, ow] = avidConv.outputShape;
const forwardFlop = 2 * n * cout * od * oh * ow * cin * kd * kh * kw;
const gflopPerStep = (3 * forwardFlop) / 1e9;
if (useReference) await reference!.call({ op: 'conv_setup', input: cfg.convInput, weight: cfg.convWeight, padding: cfg.convPadding });
const avidConvS: number[] = [];
const torchConvS: number[] = [];
const avidConvCpuS: number[] = [];
const torchConvCpuS: number[] = [];
for (let r = 0; r < cfg.convWarmup + cfg.convReps; r++) {
  const [a, aCpu] = avidConv.step();
  const [t, tCpu] = useReference ? await reference!.call<[number, number]>({ op: 'conv_step' }) : [NaN, NaN];
  if (r >= cfg.convWarmup) {
    avidConvS.push(a);
    avidConvCpuS.push(aCpu);
    if (useReference) {
      torchConvS.push(t);
      torchConvCpuS.push(tCpu);
    }
  }
}
avidConv.dispose();
reference?.close();

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const avidAdd = median(avidNs);
const torchAdd = useReference ? median(torchNs) : null;
const avidGflops = gflopPerStep / median(avidConvS);
const torchGflops = useReference ? gflopPerStep / median(torchConvS) : null;
console.log(
  JSON.stringify({
    bench: 'ops',
    torch: T.torchVersion,
    reference: useReference ? `python3-torch ${referenceInfo!.version}` : referenceError ?? 'skipped (--no-reference)',
    threads: cfg.threads,
    addOverhead: {
      what: 'a.add(b) on two 16-element float32 tensors, result freed each call; median of runs',
      runs: cfg.runs,
      iterations: cfg.iterations,
      avidNsPerOp: round(avidAdd),
      torchNsPerOp: torchAdd === null ? null : round(torchAdd),
      ratio: torchAdd === null ? null : round(avidAdd / torchAdd, 3),
      targetMet: torchAdd === null ? null : avidAdd <= torchAdd,
      avidCpuNsPerOp: round(median(avidCpuNs)),
      torchCpuNsPerOp: torchCpuNs.length ? round(median(torchCpuNs)) : null,
      cpuRatio: torchCpuNs.length ? round(median(avidCpuNs) / median(torchCpuNs), 3) : null,
      avidGcNsPerOp: round(gcNsPerOp),
      avidChunkedNsPerOp: round(median(avidChunkedNs)),
      chunk: cfg.chunk,
      avidTidyNsPerOp: round(median(avidTidyNs)),
      avidMinNsPerOp: round(Math.min(...avidNs)),
      torchMinNsPerOp: torchNs.length ? round(Math.min(...torchNs)) : null,
      nativeCallFloorNs: round(median(floorNs)),
      avidBindingCpuNsPerOp: round(median(bindingCpuNs)),
      avidRunsNs: avidNs.map((x) => round(x)),
      torchRunsNs: torchNs.map((x) => round(x)),
    },
    conv3dForwardBackward: {
      input: cfg.convInput,
      weight: cfg.convWeight,
      padding: cfg.convPadding,
      gflopPerStep: round(gflopPerStep, 2),
      reps: cfg.convReps,
      avidSeconds: round(median(avidConvS), 4),
      torchSeconds: useReference ? round(median(torchConvS), 4) : null,
      avidGflops: round(avidGflops, 2),
      torchGflops: torchGflops === null ? null : round(torchGflops, 2),
      ratio: torchGflops === null ? null : round(avidGflops / torchGflops, 3),
      targetMet: torchGflops === null ? null : avidGflops >= 0.95 * torchGflops,
      // From each side's fastest repetition: the least disturbed by other work on a shared machine.
      avidBestGflops: round(gflopPerStep / Math.min(...avidConvS), 2),
      torchBestGflops: torchConvS.length ? round(gflopPerStep / Math.min(...torchConvS), 2) : null,
      bestRatio: torchConvS.length ? round(Math.min(...torchConvS) / Math.min(...avidConvS), 3) : null,
      // GFLOP per CPU-second (all threads): on a machine shared with other work, this is not inflated by
      // waiting for a core, so it compares the two implementations' efficiency when wall times are noisy.
      avidGflopPerCpuSecond: round(gflopPerStep / median(avidConvCpuS), 2),
      torchGflopPerCpuSecond: torchConvCpuS.length ? round(gflopPerStep / median(torchConvCpuS), 2) : null,
      cpuRatio: torchConvCpuS.length ? round(median(torchConvCpuS) / median(avidConvCpuS), 3) : null,
      avidRunsSeconds: avidConvS.map((x) => round(x, 4)),
      torchRunsSeconds: torchConvS.map((x) => round(x, 4)),
    },
  }),
);
