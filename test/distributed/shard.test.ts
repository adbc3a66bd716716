// Sharding an epoch between ranks: equal counts on every rank, disjoint shares, the whole order covered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shardIndices } from '../../src/distributed/index.js';

const order = [9, 4, 7, 1, 0, 3, 8, 2, 6, 5];

test('shares are disjoint, equal in size and cover the order when the count divides', () => {
  const shares = [0, 1].map((r) => shardIndices(order, r, 2));
  assert.deepEqual(shares, [
    [9, 7, 0, 8, 6],
    [4, 1, 3, 2, 5],
  ]);
  assert.deepEqual([...shares[0], ...shares[1]].sort((a, b) => a - b), [...order].sort((a, b) => a - b));
});

test("a remainder is padded from the start of the order ('pad') or left out ('drop')", () => {
  const padded = [0, 1, 2].map((r) => shardIndices(order, r, 3));
  assert.deepEqual(padded, [
    [9, 1, 8, 5],
    [4, 0, 2, 9],
    [7, 3, 6, 4],
  ]);
  assert.ok(padded.every((s) => s.length === 4), 'equal counts, so every rank runs the same number of steps');
  assert.deepEqual(new Set(padded.flat()).size, order.length, 'padding covers everything');
  const dropped = [0, 1, 2].map((r) => shardIndices(order, r, 3, { remainder: 'drop' }));
  assert.deepEqual(dropped, [
    [9, 1, 8],
    [4, 0, 2],
    [7, 3, 6],
  ]);
  assert.equal(new Set(dropped.flat()).size, 9, 'disjoint: nothing seen twice');
});

test('one rank gets everything; bad arguments are named', () => {
  assert.deepEqual(shardIndices(order, 0, 1), order);
  assert.deepEqual(shardIndices([], 1, 2), []);
  assert.throws(() => shardIndices(order, 2, 2), /rank must be in \[0, 1\], got 2/);
  assert.throws(() => shardIndices(order, 0, 0), /worldSize must be a positive integer/);
  assert.throws(() => shardIndices(order, 0, 2, { remainder: 'wrap' as never }), /remainder must be 'pad' or 'drop'/);
});
