// bench/scale-train: data-parallel training throughput — clips/s of Cross-AVID steps (R(2+1)D-10 at width
// 0.25, 8×64² video, 100×129 audio, global batch 16) with 1 process and with 2 processes (threads split
// between them, Gloo over loopback), and the scaling efficiency (2-process clips/s / 1-process clips/s).
// Prints one JSON line. Run: node --import tsx bench/scale-train.ts [--steps 6]
import { PassThrough } from 'node:stream';
import { freePort } from '../src/distributed/free-port.js';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { launch } from '../src/distributed/launcher.js';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '6' }, batch: { type: 'string', default: '16' } } });
const steps = Number(values.steps);
const globalBatch = Number(values.batch);
const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/scale-worker.ts');

async function clipsPerSec(nproc: number): Promise<number> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  const result = await launch({ nproc, masterAddr: '127.0.0.1', masterPort: await freePort(), command: [worker, String(globalBatch), String(steps)], script: true, threadsPerProcess: Math.max(1, Math.floor(availableParallelism() / nproc)), timeoutMs: 600_000, stdout: out });
  if (result.code !== 0) throw new Error(`bench/scale-train: ${result.message}\n${text}`);
  const line = text.split('\n').find((l) => l.includes('RESULT '));
  if (!line) throw new Error(`bench/scale-train: no result:\n${text}`);
  const times: number[] = JSON.parse(line.slice(line.indexOf('RESULT ') + 7)).stepSeconds.slice(1).sort((a: number, b: number) => a - b);
  return globalBatch / times[Math.floor(times.length / 2)];
}

const one = await clipsPerSec(1);
const two = await clipsPerSec(2);
console.log(JSON.stringify({ bench: 'scale-train', globalBatch, steps, cores: availableParallelism(), clipsPerSec: { processes1: one, processes2: two }, efficiency: two / one }));
