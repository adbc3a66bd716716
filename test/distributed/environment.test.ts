// Reading torchrun's variables, and the errors a process gets before or without a working group.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import * as dist from '../../src/distributed/index.js';
import { freePort } from './helpers.js';

const skip = dist.availableBackends().includes('gloo') ? false : 'the addon was built without Gloo (install libgloo-dev and rebuild)';

test('fromEnvironment reads torchrun variables', () => {
  assert.equal(dist.fromEnvironment({}), null, 'no WORLD_SIZE: a single-process run');
  assert.deepEqual(
    dist.fromEnvironment({ RANK: '3', WORLD_SIZE: '4', LOCAL_RANK: '1', LOCAL_WORLD_SIZE: '2', MASTER_ADDR: '10.0.0.2', MASTER_PORT: '29400' }),
    { rank: 3, worldSize: 4, localRank: 1, localWorldSize: 2, masterAddr: '10.0.0.2', masterPort: 29400, timeoutMs: dist.DEFAULT_TIMEOUT_MS, backend: 'gloo' },
  );
  const env = dist.fromEnvironment({ RANK: '0', WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: '1', AVID_DIST_TIMEOUT_MS: '5000', AVID_DIST_BACKEND: 'nccl' });
  assert.equal(env?.timeoutMs, 5000);
  assert.equal(env?.backend, 'nccl');
  assert.equal(env?.localRank, 0, 'LOCAL_RANK defaults to RANK');
  assert.deepEqual(dist.fromEnvironment({ WORLD_SIZE: '1' })?.masterAddr, '127.0.0.1', 'a world of one needs no master');
  const launched = dist.fromEnvironment({ RANK: '1', WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: '1', AVID_RENDEZVOUS_FILE: '/tmp/x/store', AVID_LAUNCHER_PID: '42' });
  assert.equal(launched?.storeFile, '/tmp/x/store', 'a one-machine launch names its rendezvous file');
  assert.equal(launched?.launcherPid, 42);
  assert.throws(() => dist.fromEnvironment({ WORLD_SIZE: '1', AVID_LAUNCHER_PID: 'me' }), /AVID_LAUNCHER_PID='me' is not a non-negative integer/);
});

test('fromEnvironment names the variable that is wrong', () => {
  assert.throws(() => dist.fromEnvironment({ WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: '1' }), /RANK is not set/);
  assert.throws(() => dist.fromEnvironment({ WORLD_SIZE: 'two' }), /WORLD_SIZE='two' is not a non-negative integer/);
  assert.throws(() => dist.fromEnvironment({ RANK: '2', WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: '1' }), /RANK=2 must be below WORLD_SIZE=2/);
  assert.throws(() => dist.fromEnvironment({ RANK: '0', WORLD_SIZE: '2', MASTER_PORT: '1' }), /MASTER_ADDR is not set/);
  assert.throws(() => dist.fromEnvironment({ RANK: '0', WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: '70000' }), /MASTER_PORT=70000 is not a port/);
  assert.throws(() => dist.fromEnvironment({ RANK: '0', WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: '1', AVID_DIST_BACKEND: 'mpi' }), /AVID_DIST_BACKEND='mpi'/);
});

test('without a process group: rank 0 of 1, and collectives say what is missing', () => {
  assert.equal(dist.isInitialized(), false);
  assert.equal(dist.getRank(), 0);
  assert.equal(dist.getWorldSize(), 1);
  const t = T.ones([2]);
  assert.throws(() => dist.allReduce([t]), /distributed allReduce: no process group \(call initProcessGroup first\)/);
  assert.throws(() => dist.barrier(), /no process group/);
  t.dispose();
  dist.destroy(); // idempotent
});

test('initProcessGroup checks its arguments', () => {
  const base = { rank: 0, worldSize: 2, masterAddr: '127.0.0.1', masterPort: 29500, timeoutMs: 1000 };
  assert.throws(() => dist.initProcessGroup({ ...base, rank: 2 }), /rank must be in \[0, 1\], got 2/);
  assert.throws(() => dist.initProcessGroup({ ...base, rank: 0.5 }), /rank must be an integer/);
  assert.throws(() => dist.initProcessGroup({ ...base, masterPort: 0 }), /masterPort must be in \[1, 65535\]/);
  assert.throws(() => dist.initProcessGroup({ ...base, backend: 'mpi' as never }), /initProcessGroup: unknown distributed backend 'mpi'/);
  assert.equal(dist.isInitialized(), false);
});

test('a rank whose peers never come fails within the timeout, naming the rendezvous', { skip }, async () => {
  const port = await freePort();
  const started = Date.now();
  assert.throws(
    () => dist.initProcessGroup({ rank: 1, worldSize: 2, masterAddr: '127.0.0.1', masterPort: port, timeoutMs: 1000 }),
    new RegExp(`distributed init failed on rank 1 of 2 .*not every rank joined the rendezvous.*127\\.0\\.0\\.1:${port}`),
  );
  assert.ok(Date.now() - started < 10_000);
  assert.equal(dist.isInitialized(), false);
});
