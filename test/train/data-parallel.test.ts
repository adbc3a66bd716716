// Data-parallel Cross-AVID over 2 processes (Gloo, loopback) equals one process on the same global batch:
// parameters and memory banks after a few steps, on both ranks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableBackends } from '../../src/distributed/index.js';
import { freePort } from '../distributed/helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(here, 'fixtures/dp-run.ts');
const skip = availableBackends().includes('gloo') ? false : 'the addon was built without Gloo (install libgloo-dev and rebuild)';

function runRank(rank: number, worldSize: number, port: number): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, String(rank), String(worldSize), String(port), '8'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`rank ${rank} exited ${code}:\n${err}`));
      else resolve(JSON.parse(line.slice(7)));
    });
  });
}

function assertClose(a: number[], b: number[], what: string, tolerance = 2e-3): void {
  assert.equal(a.length, b.length, what);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= tolerance * Math.max(1, Math.abs(b[i])), `${what}[${i}]: ${v} vs ${b[i]}`));
}

test('2 ranks of Cross-AVID equal one process on the global batch', { skip, timeout: 300_000 }, async () => {
  const port = await freePort();
  const [r0, r1] = await Promise.all([runRank(0, 2, port), runRank(1, 2, port)]);
  const single = await runRank(0, 1, 0);
  assert.deepEqual(r0.params, r1.params, 'parameters identical on both ranks');
  assert.deepEqual(r0.videoBank, r1.videoBank, 'video memory identical on both ranks');
  assert.deepEqual(r0.audioBank, r1.audioBank, 'audio memory identical on both ranks');
  r0.params.forEach((p: number[], i: number) => assertClose(p, single.params[i], `parameter ${i}`));
  assertClose(r0.videoBank, single.videoBank, 'video memory bank');
  assertClose(r0.audioBank, single.audioBank, 'audio memory bank');
  // Each rank logs its own share's loss; their mean is the global batch's loss.
  r0.losses.forEach((l: number, s: number) => assert.ok(Math.abs((l + r1.losses[s]) / 2 - single.losses[s]) < 1e-3 * Math.abs(single.losses[s]), `step ${s} loss`));
});
