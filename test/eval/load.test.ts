// avid.load: a run (or 'random') as a model with its preprocessing; embedFile gives unit-norm embeddings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as avid from '../../src/index.js';
import { parseConfig } from '../../src/config/load.js';
import { pretrain } from '../../src/train/pretrain.js';
import { RandomSource } from '../helpers/random-source.js';
import { run as embed } from '../../src/cli/commands/embed.js';
import { loadSafetensors } from '../../src/io/safetensors.js';

const clips = path.resolve(import.meta.dirname, '../../../shared/data/av-clips');
avid.setNumThreads(2);

test('avid.load(run) embeds a file in the run geometry: unit-norm rows, deterministic, clear errors', async (t) => {
  if (!existsSync(clips)) return t.skip(`av-clips not found at ${clips}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-load-'));
  const live = avid.memory().liveTensors;
  try {
    const config = parseConfig({ name: 'r', runsDir: dir, data: { source: 'x' }, video: { frames: 4, fps: 8, size: 32 }, audio: { seconds: 1 }, model: { width: 0.125, embeddingDim: 16 }, objective: { negatives: 8 }, train: { epochs: 1, batchSize: 4, checkpointEvery: 1000 } }, 'test');
    await pretrain(config, { source: new RandomSource(8, 4), progress: null });
    const loaded = avid.load(path.join(dir, 'r'));
    try {
      assert.equal(loaded.geometry.size, 32);
      assert.equal(loaded.runDir, path.join(dir, 'r'));
      const file = path.join(clips, 'dog_barking.mp4');
      const e = await loaded.embedFile(file, { clips: 3 });
      assert.equal(e.meta.clips, 3);
      assert.equal(e.meta.dim, 16);
      assert.equal(e.video.length, 3 * 16);
      for (const m of [e.video, e.audio]) {
        for (let r = 0; r < 3; r++) {
          const norm = Math.hypot(...m.subarray(r * 16, (r + 1) * 16));
          assert.ok(Math.abs(norm - 1) < 1e-4, `row ${r} norm ${norm}`);
        }
      }
      const again = await loaded.embedFile(file, { start: e.meta.starts[1], clips: 1 });
      assert.deepEqual([...again.video].map((x) => x.toFixed(5)), [...e.video.subarray(16, 32)].map((x) => x.toFixed(5)), 'the same clip embeds the same');
      await assert.rejects(loaded.embedFile(path.join(clips, 'birthday.mp4')), /birthday\.mp4: no audio stream/);
      await assert.rejects(loaded.embedFile(file, { start: 1e4 }), /dog_barking\.mp4: 1 clip\(s\) from 10000\.00 s need/);
    } finally {
      loaded.dispose();
    }
    assert.equal(avid.memory().liveTensors, live, 'load and embedFile free what they made');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('avid embed: a folder of real videos → safetensors rows and a CSV; files without audio skipped and named', async (t) => {
  if (!existsSync(clips)) return t.skip(`av-clips not found at ${clips}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-embed-'));
  const lines: string[] = [];
  const stderr = process.stderr.write.bind(process.stderr);
  const log = console.log;
  process.stderr.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
  console.log = () => {};
  try {
    const out = path.join(dir, 'e.safetensors');
    assert.equal(await embed(['--checkpoint', 'random', '--width', '0.125', '--frames', '2', '--size', '16', '--clips', '2', clips, '--out', out]), 0);
    const { tensors } = loadSafetensors(out);
    const video = tensors.get('video')!;
    assert.deepEqual(video.shape, [16, 128], '8 videos with sound × 2 clips');
    const csv = readFileSync(path.join(dir, 'e.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, 17);
    assert.match(csv[1], /^0,.*\.(mp4|avi),0,/);
    assert.ok(lines.some((l) => /skipped .*birthday\.mp4 \(no audio stream\)/.test(l)));
    for (const t of tensors.values()) t.dispose();
    await assert.rejects(embed(['--checkpoint', 'random', clips]), /--out is required/);
  } finally {
    process.stderr.write = stderr;
    console.log = log;
    rmSync(dir, { recursive: true, force: true });
  }
});
