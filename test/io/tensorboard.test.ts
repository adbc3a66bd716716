// TensorBoard output checked by an independent reader (test/helpers/decode-tfevents.py: Python, its own
// bitwise CRC-32C and a wire decoder written from event.proto's field numbers): the framing and CRCs of every
// record, and wall_time, step, tag and simple_value of every event — from the trainer with train.tensorboard,
// and from `avid report --tensorboard` on a finished run. CRC-32C against RFC 3720's test vectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32c, maskedCrc32c, EventFileWriter, writeProjector } from '../../src/io/tensorboard/index.js';
import { exportRunToTensorBoard, writeRunJson } from '../../src/report/index.js';
import { writeMetrics } from '../report/fixtures/run-dir.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const DECODER = path.join(here, '../helpers/decode-tfevents.py');
// Debian's interpreter: the python3 first on PATH may be another one; only the standard library is needed.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

interface DecodedEvent {
  wall_time: number;
  step?: number;
  file_version?: string;
  summary?: Array<{ tag: string; simple_value: number }>;
}

function decode(file: string): DecodedEvent[] {
  const r = spawnSync(PYTHON, [DECODER, file], { encoding: 'utf8' });
  assert.equal(r.status, 0, `the independent decoder failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const f32 = (x: number) => Math.fround(x);

test('CRC-32C matches RFC 3720 B.4 and the independent bitwise implementation; masking as TensorFlow does', () => {
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283, 'the CRC catalogue check value');
  const samples = ['', '61', 'deadbeef', Buffer.from('brain.Event:2').toString('hex')];
  const python = spawnSync(PYTHON, [DECODER, '--crc32c', ...samples], { encoding: 'utf8' });
  assert.equal(python.status, 0, python.stderr);
  assert.deepEqual(samples.map((h) => crc32c(Buffer.from(h, 'hex'))), JSON.parse(python.stdout));
  // mask(crc) = rotr15(crc) + 0xa282ead8; of the empty string's CRC (0) it is the constant itself.
  assert.equal(maskedCrc32c(new Uint8Array(0)), 0xa282ead8);
  const crc = 0x8a9136aa;
  assert.equal(maskedCrc32c(new Uint8Array(32)), ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) % 2 ** 32);
});

test('an event file: file_version first, then wall_time, step, tag and simple_value of each scalar event', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-tb-'));
  try {
    const writer = new EventFileWriter(dir, 1_700_000_000.25);
    assert.match(path.basename(writer.path), /^events\.out\.tfevents\.1700000000\./);
    writer.scalars(0, { 'train/loss': 13.979393005371094, 'train/lr': 0.0003 }, 1_700_000_001.5);
    writer.scalars(2 ** 40 + 3, { 'epoch/loss': -2.5, 'epoch/skip': Number.NaN }, 1_700_000_002);
    writer.scalars(7, { only: Number.POSITIVE_INFINITY }); // nothing finite: no event
    assert.deepEqual(decode(writer.path), [
      { wall_time: 1_700_000_000.25, file_version: 'brain.Event:2' },
      { wall_time: 1_700_000_001.5, step: 0, summary: [{ tag: 'train/loss', simple_value: f32(13.979393005371094) }, { tag: 'train/lr', simple_value: f32(0.0003) }] },
      { wall_time: 1_700_000_002, step: 2 ** 40 + 3, summary: [{ tag: 'epoch/loss', simple_value: -2.5 }] },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train.tensorboard: the trainer writes every step and epoch record as scalars beside metrics.jsonl', async () => {
  const T = await import('../../src/tensor/index.js');
  const { createModel } = await import('../../src/models/index.js');
  const { Adam, schedules } = await import('../../src/optim/index.js');
  const { AvidObjective } = await import('../../src/ssl/avid.js');
  const { Trainer } = await import('../../src/train/trainer.js');
  const { RandomSource } = await import('../helpers/random-source.js');
  T.manualSeed(1);
  const runDir = mkdtempSync(path.join(tmpdir(), 'avid-tb-train-'));
  try {
    const model = createModel('av-r2plus1d-10', { width: 0.125, embeddingDim: 16 });
    const objective = new AvidObjective({ numInstances: 16, dim: 16, variant: 'cross', negatives: 8 });
    const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
    const started = Date.now() / 1000;
    const trainer = new Trainer(model, objective, optimizer, new RandomSource(16, 4), { runDir, seed: 0, epochs: 2, schedule: schedules.constant, checkpointEvery: 1000, logEvery: 1, progress: null, tensorboard: true });
    await trainer.run();
    const records = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const files = readdirSync(path.join(runDir, 'tensorboard'));
    assert.equal(files.length, 1);
    const events = decode(path.join(runDir, 'tensorboard', files[0])).slice(1);
    const trainRecords = records.filter((r) => r.kind === 'train');
    const epochRecords = records.filter((r) => r.kind === 'epoch');
    assert.equal(trainRecords.length, 8);
    assert.equal(events.length, trainRecords.length + epochRecords.length);
    for (const e of events) assert.ok(e.wall_time >= started - 1 && e.wall_time <= Date.now() / 1000 + 1, `wall_time ${e.wall_time} is now`);
    const trainEvents = events.filter((e) => e.summary!.some((v) => v.tag === 'train/loss'));
    assert.deepEqual(trainEvents.map((e) => e.step), trainRecords.map((r) => r.step));
    trainEvents.forEach((e, i) => {
      const values = Object.fromEntries(e.summary!.map((v) => [v.tag, v.simple_value]));
      assert.equal(values['train/loss'], f32(trainRecords[i].loss));
      assert.equal(values['train/lr'], f32(trainRecords[i].lr));
      assert.equal(values['train/v2a'], f32(trainRecords[i].v2a), 'the objective terms too');
      assert.ok(!('train/step' in values) && !('train/time' in values));
    });
    const epochEvents = events.filter((e) => e.summary!.some((v) => v.tag === 'epoch/loss'));
    assert.deepEqual(epochEvents.map((e) => e.step), [0, 1], 'epoch scalars are indexed by epoch');
    assert.equal(epochEvents[1].summary!.find((v) => v.tag === 'epoch/loss')!.simple_value, f32(epochRecords[1].loss));
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
});

test('avid report --tensorboard: a finished run\'s metrics as events, its embeddings in the projector layout', () => {
  const runDir = mkdtempSync(path.join(tmpdir(), 'avid-tb-export-'));
  try {
    writeMetrics(runDir); // 36 steps in 3 epochs
    writeRunJson(runDir, 'results/embeddings.json', { vectors: [[1, 2.5], [-3, 0.125], [0, 1e-7]], labels: ['ball', 'drum\tkit', 'ball'], files: ['a.mp4', 'b.mp4', 'c.mp4'] });
    const first = exportRunToTensorBoard(runDir);
    const again = exportRunToTensorBoard(runDir);
    assert.equal(first.events, 39);
    assert.deepEqual(readdirSync(again.logDir).filter((f) => f.includes('tfevents')), [path.basename(again.eventFile!)], 're-exporting replaces the export');
    const events = decode(again.eventFile!);
    assert.equal(events[0].file_version, 'brain.Event:2');
    const records = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const steps = events.slice(1).filter((e) => e.summary!.some((v) => v.tag === 'train/loss'));
    assert.deepEqual(steps.map((e) => e.step), records.filter((r) => r.kind === 'train').map((r) => r.step));
    // Wall times keep the run's spacing (time is 1.7 s per step in the fixture).
    assert.ok(Math.abs(steps[10].wall_time - steps[0].wall_time - 17) < 1e-3, `${steps[10].wall_time - steps[0].wall_time}`);
    const gradNorm = steps.map((e) => e.summary!.find((v) => v.tag === 'train/gradNorm')!.simple_value);
    assert.deepEqual(gradNorm, records.filter((r) => r.kind === 'train').map((r) => f32(r.gradNorm)));

    assert.equal(readFileSync(again.projectorConfig!, 'utf8'), 'embeddings {\n  tensor_name: "embeddings"\n  tensor_path: "embeddings/tensors.tsv"\n  metadata_path: "embeddings/metadata.tsv"\n}\n');
    assert.equal(readFileSync(path.join(again.logDir, 'embeddings/tensors.tsv'), 'utf8'), '1\t2.5\n-3\t0.125\n0\t1e-7\n');
    assert.equal(readFileSync(path.join(again.logDir, 'embeddings/metadata.tsv'), 'utf8'), 'label\tfile\nball\ta.mp4\ndrum kit\tb.mp4\nball\tc.mp4\n');
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
});

test('the projector refuses inconsistent embeddings, naming which and why', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-tb-proj-'));
  try {
    assert.throws(() => writeProjector(dir, [{ name: 'video', vectors: [[1, 2], [3]], labels: ['a', 'b'] }]), /projector embedding 'video': vector 1 has length 1 \(expected 2\)/);
    assert.throws(() => writeProjector(dir, [{ name: 'audio', vectors: [[1]], labels: [] }]), /'audio': 0 labels for 1 vectors/);
    const config = writeProjector(dir, [{ name: 'a "quoted" name', vectors: [[1]], labels: ['x'] }]);
    assert.match(readFileSync(config, 'utf8'), /tensor_name: "a \\"quoted\\" name"/);
    assert.equal(readFileSync(path.join(dir, 'a_quoted_name/metadata.tsv'), 'utf8'), 'x\n', 'one column: no header row');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
