// bench/scale: data-parallel scaling. PLACEHOLDER until the trainer exists: measures what the trainer's
// gradient exchange will cost, the all-reduce (average) time and bandwidth of one 15M-float buffer (60 MB,
// about half of R(2+1)D-18's parameters) between 2 processes over loopback Gloo, threads split between them,
// and the same exchange in PyTorch 1.13's torch.distributed (the same libtorch and Gloo) for the ratio.
// The clips/s with 1 and 2 processes and their efficiency ratio come once `pretrain` runs under `avid launch`.
//
// Run: node --import tsx bench/scale.ts   (prints one JSON line)
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/distributed/free-port.js';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const FLOATS = 15_000_000;
const WARMUP = 2;
const ITERATIONS = 8;
const PROCESSES = 2;

/** One rank (run by `launch` with the torchrun variables): times the all-reduces, rank 0 prints them. */
async function worker(): Promise<void> {
  const T = await import('../src/tensor/index.js');
  const dist = await import('../src/distributed/index.js');
  const env = dist.fromEnvironment()!;
  dist.initProcessGroup(env);
  const buffer = T.ones([FLOATS]);
  for (let i = 0; i < WARMUP; i++) dist.allReduce([buffer], { average: true });
  dist.barrier();
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const start = process.hrtime.bigint();
    dist.allReduce([buffer], { average: true });
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  const check = buffer.mean().item();
  buffer.dispose();
  dist.destroy();
  if (env.rank === 0) console.log('RESULT ' + JSON.stringify({ times, check }));
}

// The same measurement in PyTorch, run by Debian's /usr/bin/python3 (python3-torch).
const PYTORCH_WORKER = `
import os, time, json, torch, torch.distributed as dist
torch.set_num_threads(int(os.environ["AVID_NUM_THREADS"]))
dist.init_process_group("gloo", init_method="env://")
x = torch.ones(${FLOATS})
for _ in range(${WARMUP}):
    dist.all_reduce(x); x.div_(dist.get_world_size())
dist.barrier()
times = []
for _ in range(${ITERATIONS}):
    t = time.perf_counter(); dist.all_reduce(x); x.div_(dist.get_world_size()); times.append(time.perf_counter() - t)
if dist.get_rank() == 0: print("RESULT " + json.dumps({"times": times, "check": x.mean().item()}), flush=True)
dist.destroy_process_group()
`;

function median(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function parseResult(text: string, prefix: string): { times: number[]; check: number } | null {
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line ? JSON.parse(line.slice(prefix.length)) : null;
}

async function avidTimes(threads: number): Promise<number[]> {
  const { launch } = await import('../src/distributed/launcher.js');
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  const result = await launch({
    nproc: PROCESSES,
    masterAddr: '127.0.0.1',
    masterPort: await freePort(),
    command: [fileURLToPath(import.meta.url)],
    script: true,
    threadsPerProcess: threads,
    timeoutMs: 120_000,
    stdout: out,
  });
  if (result.code !== 0) throw new Error(`bench/scale: ${result.message}\n${text}`);
  const got = parseResult(text, '[rank 0] RESULT ');
  if (!got) throw new Error(`bench/scale: rank 0 printed no result:\n${text}`);
  if (got.check !== 1) throw new Error(`bench/scale: the averaged all-reduce of ones has mean ${got.check}, expected 1`);
  return got.times;
}

async function pytorchTimes(threads: number): Promise<number[] | null> {
  if (!existsSync('/usr/bin/python3')) return null;
  const port = await freePort();
  const outputs = await Promise.all(
    Array.from({ length: PROCESSES }, (_, rank) =>
      new Promise<string>((resolve) => {
        const env = { ...process.env, RANK: String(rank), WORLD_SIZE: String(PROCESSES), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) };
        const child = spawn('/usr/bin/python3', ['-c', PYTORCH_WORKER], {
          env: { ...env, AVID_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) },
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.on('close', () => resolve(out));
      }),
    ),
  );
  const got = parseResult(outputs[0], 'RESULT ');
  return got && got.check === 1 ? got.times : null;
}

async function driver(): Promise<void> {
  const threads = Math.max(1, Math.floor(availableParallelism() / PROCESSES));
  const avid = median(await avidTimes(threads));
  const reference = await pytorchTimes(threads);
  const pytorch = reference ? median(reference) : null;
  const bytes = FLOATS * 4;
  const round = (x: number) => Number(x.toFixed(4));
  console.log(
    JSON.stringify({
      bench: 'scale',
      placeholder: true,
      note: 'placeholder until the trainer exists: median time of an averaged all-reduce of one 15M-float buffer between 2 processes over loopback Gloo; pytorch = torch.distributed 1.13 in the same run',
      processes: PROCESSES,
      cores: availableParallelism(),
      threadsPerProcess: threads,
      floats: FLOATS,
      iterations: ITERATIONS,
      avidAllReduceSeconds: round(avid),
      // bytes of the buffer per second (with 2 ranks the bus bandwidth, 2(n-1)/n of it, is the same)
      avidBandwidthGBps: round(bytes / avid / 1e9),
      pytorchAllReduceSeconds: pytorch === null ? null : round(pytorch),
      pytorchBandwidthGBps: pytorch === null ? null : round(bytes / pytorch / 1e9),
      avidOverPytorchTime: pytorch === null ? null : round(avid / pytorch),
    }),
  );
}

if (process.env.WORLD_SIZE) await worker();
else await driver();
