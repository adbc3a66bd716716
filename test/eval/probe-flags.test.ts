import { test } from 'node:test';
import assert from 'node:assert/strict';
import { probeSettingsFlag } from '../../src/cli/probe-flags.js';
import { checkProbeSettings, DEFAULT_AV_PROBE } from '../../src/eval/av-evaluation.js';

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
