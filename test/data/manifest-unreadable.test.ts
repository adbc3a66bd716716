// A sub-folder that cannot be listed is a listed reject, not the end of the scan. As root every folder can
// be listed, so the scan then runs in a child process as user 'nobody'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '../..');

test('an unreadable sub-folder is listed as a reject and the rest is still found', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-unreadable-'));
  chmodSync(dir, 0o755);
  mkdirSync(path.join(dir, 'open'));
  writeFileSync(path.join(dir, 'open', 'a.mp4'), 'x');
  mkdirSync(path.join(dir, 'locked'));
  writeFileSync(path.join(dir, 'locked', 'b.mp4'), 'x');
  chmodSync(path.join(dir, 'locked'), 0o000);
  const script = `
    const { collectInputFiles } = await import(${JSON.stringify(path.join(repoRoot, 'src/data/manifest.ts'))});
    const r = await collectInputFiles([${JSON.stringify(dir)}]);
    console.log(JSON.stringify({ files: r.files.map((f) => f.relative), missing: r.missing }));`;
  const asRoot = process.getuid?.() === 0;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', ...(asRoot ? { uid: 65534, gid: 65534, env: { ...process.env, HOME: tmpdir() } } : {}) });
  chmodSync(path.join(dir, 'locked'), 0o755);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.files, ['open/a.mp4']);
  assert.deepEqual(out.missing, [{ path: path.join(dir, 'locked'), reason: 'unreadable', detail: 'folder cannot be listed (EACCES)' }]);
});
