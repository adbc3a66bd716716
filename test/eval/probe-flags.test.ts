import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run as evalAv } from '../../src/cli/commands/eval-av.js';
import { probeSettingsFlag } from '../../src/cli/probe-flags.js';
import { checkProbeSettings, DEFAULT_AV_PROBE } from '../../src/eval/av-evaluation.js';

const avClips = path.resolve('../shared/data/av-clips');

test('probe flags: recipe, epochs, lr, draws and seed; errors name the flag', () => {
  assert.deepEqual(probeSettingsFlag({}), DEFAULT_AV_PROBE);
  assert.deepEqual(probeSettingsFlag({ probe: 'fixed', 'probe-lr': '0.02' }), { recipe: 'fixed', lr: 0.02 });
  const r = probeSettingsFlag({ probe: 'reference', 'probe-epochs': '12', 'probe-lr': '1e-4', 'probe-draws': '0', 'probe-seed': '3' });
  assert.equal(r.recipe, 'reference');
  assert.deepEqual([r.epochs, r.lr, r.draws, r.seed], [12, 1e-4, 0, 3]);
  assert.throws(() => probeSettingsFlag({ probe: 'refrence' }), /--probe: unknown 'refrence' \(did you mean 'reference'\?\)/);
  assert.throws(() => probeSettingsFlag({ probe: 'fixed', 'probe-epochs': '5' }), /--probe-epochs applies to --probe reference, not 'fixed'/);
  assert.throws(() => probeSettingsFlag({ probe: 'reference', 'probe-draws': '-1' }), /--probe-draws must be an integer ≥ 0/);
  assert.throws(() => probeSettingsFlag({ probe: 'reference', 'probe-lr': '0' }), /--probe-lr must be a positive number/);
  assert.throws(() => checkProbeSettings({ recipe: 'fixed', draws: 3 }), /draws applies to the reference recipe, not 'fixed'/);
  assert.throws(() => checkProbeSettings({ recipe: 'reference', epochs: 1.5 }), /epochs must be an integer ≥ 1, got 1.5/);
});

test('eval-av --probe reference: the video probe trains on augmented draws and the settings are recorded', { skip: existsSync(avClips) ? false : `${avClips} is absent` }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-probe-flags-'));
  try {
    // Six training videos: the validation split holds out one of five groups.
    const files = ['dog_barking.mp4', 'applausing.mp4', 'boat.mp4', 'IronMan.mp4', 'car-detection.mp4', 'skateboarding_dog.mp4', 'grid_speaker.mp4', 'mmaction_test.avi'];
    const labels = path.join(dir, 'labels.csv');
    writeFileSync(labels, `file,label,split\n${files.map((f, i) => `${path.join(avClips, f)},${i % 2},${i < 6 ? 'train' : 'test'}`).join('\n')}\n`);
    const out = path.join(dir, 'av.json');
    const argv = ['--checkpoint', 'random:configs/cpu/cross-avid.yaml', '--labels', labels, '--clips', '2', '--out', out];
    assert.equal(await evalAv([...argv, '--probe', 'reference', '--probe-epochs', '3', '--probe-draws', '2', '--probe-seed', '4']), 0);
    const written = JSON.parse(readFileSync(out, 'utf8')) as { probeSettings: unknown; probe: { video: Record<string, { video: number; validation?: number }> } };
    assert.deepEqual(written.probeSettings, { recipe: 'reference', epochs: 3, draws: 2, seed: 4 });
    assert.deepEqual(Object.keys(written.probe.video), ['conv2x', 'conv3x', 'conv4x', 'conv5x', 'pool']);
    for (const [block, s] of Object.entries(written.probe.video)) {
      assert.ok(s.video >= 0 && s.video <= 1, block);
      assert.equal(typeof s.validation, 'number', `${block}: a validation score to choose the block by`);
    }
    await assert.rejects(evalAv([...argv, '--probe', 'fixed', '--probe-draws', '2']), /--probe-draws applies to --probe reference, not 'fixed'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
