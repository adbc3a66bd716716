// --audio-stats on eval-av, eval-sync and localize: the file's statistics replace the checkpoint's in the clip
// geometry those commands normalise audio with, and a file that cannot serve (unreadable, computed for
// another spectrogram, the reference's .npz for the paper's front end) stops the command naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clipGeometryWithStatsFile } from '../../src/eval/audio-stats-file.js';
import { PretrainConfig } from '../../src/config/schema.js';
import { ANALYSIS_SPECTROGRAM, saveStats, type SpectrogramStats } from '../../src/media/spectrogram.js';
import { run as evalAv } from '../../src/cli/commands/eval-av.js';
import { run as evalSync } from '../../src/cli/commands/eval-sync.js';
import { run as localize } from '../../src/cli/commands/localize.js';

const avClips = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data/av-clips');
const config = PretrainConfig.parse({ data: { source: 'x' } });

function stats(mean: number, spectrogram = ANALYSIS_SPECTROGRAM): SpectrogramStats {
  return { config: spectrogram, mean: new Array(spectrogram.freqBins).fill(mean), std: new Array(spectrogram.freqBins).fill(2), frames: 10, clips: 1 };
}

test('clipGeometryWithStatsFile: the file\'s statistics over the checkpoint\'s, the checkpoint\'s without a file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-stats-flag-'));
  try {
    const file = path.join(dir, 'stats.json');
    saveStats(file, stats(-7));
    assert.deepEqual(clipGeometryWithStatsFile(config, stats(-3)).audioStats!.mean, new Array(129).fill(-3));
    assert.deepEqual(clipGeometryWithStatsFile(config, stats(-3), undefined, file).audioStats!.mean, new Array(129).fill(-7));
    assert.deepEqual(clipGeometryWithStatsFile(config, null, undefined, file).audioStats!.mean, new Array(129).fill(-7));
    assert.equal(clipGeometryWithStatsFile(config, null).audioStats, null);
    // The checkpoint's statistics need not fit a front end the file replaces them for.
    assert.throws(() => clipGeometryWithStatsFile(config, stats(-3), 'reference'), /computed with the 'paper' front end/);
    assert.throws(() => clipGeometryWithStatsFile(config, stats(-3), 'reference', file), new RegExp(`${file.replace(/[.]/g, '\\.')}: statistics were computed for`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('eval-av, eval-sync and localize read --audio-stats and refuse a file that does not fit, naming it', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-stats-flag-'));
  try {
    const labels = path.join(dir, 'labels.csv');
    writeFileSync(labels, `file,label,split\n${path.join(avClips, 'dog_barking.mp4')},0,train\n${path.join(avClips, 'applausing.mp4')},1,test\n`);
    const otherHop = path.join(dir, 'other-hop.json');
    saveStats(otherHop, stats(-7, { ...ANALYSIS_SPECTROGRAM, hopSec: 0.01 }));
    const missing = path.join(dir, 'missing.json');
    const npz = path.join(dir, 'reference-stats.npz');
    writeFileSync(npz, 'never read: the front end is checked first');
    const random = ['--checkpoint', 'random', '--width', '0.125'];
    const commands: [string, (stats: string) => Promise<number>][] = [
      ['eval-av', (s) => evalAv(['--checkpoint', 'random:configs/cpu/cross-avid.yaml', '--labels', labels, '--out', path.join(dir, 'av.json'), '--audio-stats', s])],
      ['eval-sync', (s) => evalSync([...random, '--labels', labels, '--all', '--out', path.join(dir, 'sync.json'), '--audio-stats', s])],
      ['localize', (s) => localize([...random, path.join(avClips, 'dog_barking.mp4'), '--no-render', '--out', path.join(dir, 'loc'), '--audio-stats', s])],
    ];
    for (const [name, command] of commands) {
      await assert.rejects(command(otherHop), new RegExp(`${otherHop.replace(/[.]/g, '\\.')}: statistics were computed for .*"hopSec":0\\.01`), name);
      await assert.rejects(command(missing), new RegExp(`cannot read spectrogram statistics ${missing.replace(/[.]/g, '\\.')}`), name);
      await assert.rejects(command(npz), /reference-stats\.npz: the reference's statistics are of its own log spectrogram; this evaluation uses the 'paper' front end/, name);
    }
    // A file that fits is used and recorded: the same pairs scored without and with it (the random network
    // sees other inputs, so its distances change) and the results name the file.
    const good = path.join(dir, 'good.json');
    saveStats(good, stats(-5));
    const scores: string[] = [];
    for (const extra of [[], ['--audio-stats', good]]) {
      const out = path.join(dir, `sync-${extra.length}.json`);
      assert.equal(await evalSync([...random, '--labels', labels, '--all', '--pairs', '4', '--out', out, ...extra]), 0);
      const written = JSON.parse(readFileSync(out, 'utf8')) as { audioStats?: string; easy: unknown; hard: unknown };
      assert.equal(written.audioStats, extra.length ? good : undefined);
      scores.push(JSON.stringify([written.easy, written.hard]));
    }
    assert.notEqual(scores[0], scores[1], 'the statistics change what the network sees');
    await assert.rejects(evalSync(['--checkpoint', 'oracle', '--labels', labels, '--all', '--out', path.join(dir, 'o.json'), '--audio-stats', otherHop]), /--audio-stats: the oracle scores pairs without an audio network/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
