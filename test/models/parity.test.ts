import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../../src/tensor/index.js';
import { createModel, hashFill, hashFillStateDict, AVModel } from '../../src/models/index.js';

const specDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/spec');
const haveSpec = existsSync(path.join(specDir, 'encoders-golden.json'));
const skip = !haveSpec && `encoder spec not found at ${specDir}`;

function readTsv(name: string): { key: string; shape: number[]; dtype: string }[] {
  return readFileSync(path.join(specDir, name), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [key, shape, dtype] = line.split('\t');
      return { key, shape: JSON.parse(shape), dtype };
    });
}

for (const [depth, file] of [
  [10, 'state-dict-r2plus1d10-conv2d.tsv'],
  [18, 'state-dict-r2plus1d18-conv2d.tsv'],
] as const) {
  test(`av-r2plus1d-${depth} state dict equals the reference's keys, order, shapes and dtypes`, { skip }, () => {
    const model = createModel(`av-r2plus1d-${depth}`);
    const ours = [...model.stateDict()].map(([key, t]) => ({ key, shape: t.shape, dtype: t.dtype }));
    assert.deepEqual(ours, readTsv(file));
    model.dispose();
  });
}

function relativeError(ours: Float32Array, reference: number[]): number {
  let num = 0;
  let den = 0;
  reference.forEach((r, i) => {
    num += (ours[i] - r) ** 2;
    den += r * r;
  });
  return Math.sqrt(num / Math.max(den, 1e-30));
}

const golden = haveSpec ? JSON.parse(readFileSync(path.join(specDir, 'encoders-golden.json'), 'utf8')) : {};
for (const [name, g] of Object.entries<any>(golden)) {
  test(`golden outputs of ${name} agree within 1e-3 relative error`, { skip, timeout: 120_000 }, () => {
    const model = createModel(g.video_depth === 10 ? 'av-r2plus1d-10' : 'av-r2plus1d-18') as AVModel;
    hashFillStateDict(model.stateDict());
    model.eval();
    T.tidy(() =>
      T.noGrad(() => {
        const out = model.forwardBlocks(hashFill(g.video_input, -1), hashFill(g.audio_input, -2));
        for (const [modality, blocks] of [['video', out.video], ['audio', out.audio]] as const) {
          for (const [block, stats] of Object.entries<any>(g[`${modality}_blocks`])) {
            const t = (blocks as Record<string, T.Tensor>)[block];
            assert.deepEqual(t.shape, stats.shape, `${modality} ${block} shape`);
            assert.ok(Math.abs(t.mean().item() - stats.mean) <= 1e-3 * Math.abs(stats.mean) + 1e-6, `${modality} ${block} mean ${t.mean().item()} vs ${stats.mean}`);
            assert.ok(Math.abs(t.abs().max().item() - stats.absmax) <= 1e-3 * stats.absmax + 1e-6, `${modality} ${block} absmax`);
          }
          const pool = relativeError(blocks.pool.flatten().toFloat32Array(), g[`${modality}_pool`]);
          const head = relativeError(blocks.head.flatten().toFloat32Array(), g[`${modality}_head`]);
          assert.ok(pool <= 1e-3, `${modality} pool relative error ${pool}`);
          assert.ok(head <= 1e-3, `${modality} head relative error ${head}`);
        }
      }),
    );
    model.dispose();
  });
}
