import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCsvLine } from '../../src/io/csv.js';

test('CSV lines: quoted commas and doubled quotes survive, fields are trimmed, an open quote is reported', () => {
  assert.deepEqual(splitCsvLine('a.mp4, 3 ,1'), ['a.mp4', '3', '1']);
  assert.deepEqual(splitCsvLine('"dog, barking.wav",dog,"say ""woof"""'), ['dog, barking.wav', 'dog', 'say "woof"']);
  assert.deepEqual(splitCsvLine('a,,'), ['a', '', '']);
  assert.deepEqual(splitCsvLine('it"s,x'), ['it"s', 'x']);
  assert.equal(splitCsvLine('"never closed,1'), null);
});
