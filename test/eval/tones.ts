// Labelled sine tones for the evaluation tests: three classes (low, mid, high), four takes each, written
// with ffmpeg as wav files with a labels CSV beside them; fold, group and split of each take are the test's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export interface ToneLayout {
  seconds: number;
  fold(take: number): number;
  group(className: string, take: number): string;
  /** 'train' / 'test' per take: adds a split column. */
  split?(take: number): 'train' | 'test';
}

/** Writes the tones and `labels.csv` into `dir`; returns the CSV's path and the files in label order. */
export function writeLabelledTones(dir: string, layout: ToneLayout): { csv: string; files: string[] } {
  const rows = [layout.split ? 'file,label,fold,group,split' : 'file,label,fold,group'];
  const files: string[] = [];
  const frequencies = { low: 300, mid: 1200, high: 4000 };
  for (const [name, hz] of Object.entries(frequencies)) {
    for (let i = 0; i < 4; i++) {
      const file = `${name}-${i}.wav`;
      const made = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `sine=frequency=${hz + 20 * i}:duration=${layout.seconds}`, '-ar', '16000', '-y', path.join(dir, file)]);
      assert.equal(made.status, 0, String(made.stderr));
      rows.push([file, name, layout.fold(i), layout.group(name, i), ...(layout.split ? [layout.split(i)] : [])].join(','));
      files.push(path.join(dir, file));
    }
  }
  const csv = path.join(dir, 'labels.csv');
  writeFileSync(csv, `${rows.join('\n')}\n`);
  return { csv, files };
}
