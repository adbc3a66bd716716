// A rank that dies (or stalls) must not hang the others: the survivor's collective fails within the timeout
// with an error naming its rank and the operation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableBackends } from '../../src/distributed/index.js';
import { freePort, startRanks } from './helpers.js';

const skip = availableBackends().includes('gloo') ? false : 'the addon was built without Gloo (install libgloo-dev and rebuild)';
const TIMEOUT_MS = 5000;

async function survivorAfter(signal: NodeJS.Signals) {
  const job = startRanks('failure.worker.ts', 2, await freePort(), [String(TIMEOUT_MS)], 40_000);
  await Promise.all([job.waitFor(0, 'ready'), job.waitFor(1, 'ready')]);
  const sentAt = Date.now();
  job.children[1].kill(signal);
  const survivor = new Promise<number>((resolve) => job.children[0].on('close', () => resolve(Date.now() - sentAt)));
  const elapsedMs = await survivor;
  if (signal === 'SIGSTOP') job.children[1].kill('SIGKILL');
  const [rank0] = await job.done;
  return { ...rank0, sinceSignalMs: elapsedMs, peerPid: job.children[1].pid };
}

test('killing one rank makes the other fail fast, naming its rank and the operation', { skip }, async () => {
  const r = await survivorAfter('SIGKILL');
  assert.equal(r.code, 3, `rank 0 should report the failure and exit non-zero:\n${r.stderr}`);
  assert.match(r.stderr, /distributed allReduce failed on rank 0 of 2 \(gloo, timeout 5000 ms\)/);
  assert.match(r.stderr, /closed its connection|timed out|no answer/);
  // The survivor names the dead peer (same machine: it looks up the pid the peer published at init).
  assert.match(r.stderr, new RegExp(`\\[rank 1 \\(pid ${r.peerPid}\\) is no longer running\\]`));
  assert.ok(r.sinceSignalMs < TIMEOUT_MS + 3000, `rank 0 took ${r.sinceSignalMs} ms to fail`);
});

test('a stalled rank makes the other fail after the timeout, not hang', { skip }, async () => {
  const r = await survivorAfter('SIGSTOP');
  assert.equal(r.code, 3, `rank 0 should report the failure and exit non-zero:\n${r.stderr}`);
  assert.match(r.stderr, /distributed allReduce failed on rank 0 of 2 .*no answer from the other ranks within the timeout/);
  assert.match(r.stderr, /broken: distributed allReduce failed/, 'the group is marked unusable');
  assert.doesNotMatch(r.stderr, /no longer running/, 'a stopped peer is still a running process');
  assert.ok(r.sinceSignalMs >= TIMEOUT_MS - 500, `failed after ${r.sinceSignalMs} ms, before the timeout`);
  assert.ok(r.sinceSignalMs < TIMEOUT_MS + 3000, `rank 0 took ${r.sinceSignalMs} ms to fail`);
});
