// The published package works where avid is a dependency, not a checkout: `npm pack` (which compiles src/ to
// dist/ through the prepare script), install the tarball into a fresh project, then plain Node — no tsx, no
// sources — imports it, computes with it, and runs its `avid` bin. The install is offline and skips the
// install script (node-gyp would compile the libtorch code for minutes): the runtime dependencies are packed
// from this checkout's node_modules, and AVID_NATIVE points the installed copy at the addon built here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const addon = path.join(repoRoot, 'build/Release/avid_native.node');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The environment of a plain Node process: no loader options inherited from this test runner. */
function plainEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  return env;
}

/** `npm pack --json` into `dir`; returns the tarball's path and the packed file list. */
async function pack(from: string, dir: string): Promise<{ tarball: string; files: string[] }> {
  const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', dir, from], { cwd: repoRoot, maxBuffer: 64 << 20 });
  // prepare's own output (tsc) may precede the JSON array.
  const [info] = JSON.parse(stdout.slice(stdout.search(/^\[/m))) as { filename: string; files: { path: string }[] }[];
  return { tarball: path.join(dir, info.filename), files: info.files.map((f) => f.path) };
}

test('npm pack gives a package that plain Node imports and runs from a fresh project', { timeout: 600_000 }, async () => {
  assert.ok(existsSync(addon), `the native addon must be built first (${addon})`);
  const work = mkdtempSync(path.join(tmpdir(), 'avid-pack-'));
  try {
    const avid = await pack('.', work);
    for (const needed of ['package.json', 'bin/avid.mjs', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/cli/commands/embed.js', 'dist/tensor/native.js', 'binding.gyp', 'native/addon.cc', 'configs/cpu/cma.yaml']) {
      assert.ok(avid.files.includes(needed), `the tarball lacks ${needed}`);
    }
    assert.ok(!avid.files.some((f) => f.startsWith('src/') || f.startsWith('test/')), 'the tarball should ship dist/, not sources or tests');

    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    assert.ok(!('tsx' in pkg.dependencies), 'tsx must not be a run-time dependency of the compiled package');
    const deps: string[] = [];
    for (const name of Object.keys(pkg.dependencies)) deps.push((await pack(path.join(repoRoot, 'node_modules', name), work)).tarball);

    const app = path.join(work, 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await run(npm, ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', avid.tarball, ...deps], { cwd: app });
    assert.ok(!existsSync(path.join(app, 'node_modules/tsx')), 'tsx was installed: the package should not need it');
    assert.ok(!existsSync(path.join(app, 'node_modules/avid/src')));

    writeFileSync(
      path.join(app, 'check.mjs'),
      [
        "import * as avid from 'avid';",
        'const x = avid.tidy(() => avid.ones([2, 3]).mul(2).sum().item());',
        "const model = avid.models.createModel('av-r2plus1d-10', { width: 0.125 });",
        'model.eval();',
        'const { video, audio } = avid.noGrad(() => model.forward(avid.randn([1, 3, 4, 32, 32]), avid.randn([1, 1, 40, 33])));',
        'console.log(JSON.stringify({ x, video: video.shape, audio: audio.shape, load: typeof avid.load }));',
        'model.dispose();',
      ].join('\n'),
    );
    const env = plainEnv({ AVID_NATIVE: addon });
    const script = await run(process.execPath, ['check.mjs'], { cwd: app, env });
    assert.deepEqual(JSON.parse(script.stdout.trim().split('\n').at(-1)!), { x: 12, video: [1, 128], audio: [1, 128], load: 'function' });

    // The declarations type a consumer's TypeScript (strict, full lib check), and are real types, not `any`.
    writeFileSync(
      path.join(app, 'use.ts'),
      [
        "import * as avid from 'avid';",
        "const model: avid.models.AVModel = avid.models.createModel('av-r2plus1d-10', { width: 0.125 });",
        "const embeddings: Promise<avid.FileEmbeddings> = avid.load('runs/x').embedFile('a.mp4', { clips: 2 });",
        '// @ts-expect-error a function is not a string',
        'const wrong: string = avid.randn;',
        'console.log(model, embeddings, wrong);',
      ].join('\n'),
    );
    mkdirSync(path.join(app, 'node_modules/@types'));
    symlinkSync(path.join(repoRoot, 'node_modules/@types/node'), path.join(app, 'node_modules/@types/node'));
    const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
    await run(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', 'use.ts'], { cwd: app }).catch(
      (e: { stdout?: string }) => assert.fail(`tsc on the installed declarations failed:\n${e.stdout}`),
    );

    const bin = path.join(app, 'node_modules/.bin/avid');
    const help = await run(bin, ['--help'], { cwd: app, env });
    for (const command of ['demo', 'embed', 'eval', 'pretrain', 'report']) assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));
    // A command runs from dist/ (its own --help parses flags through the compiled cli/flags.js).
    const embedHelp = await run(bin, ['embed', '--help'], { cwd: app, env });
    assert.match(embedHelp.stdout + embedHelp.stderr, /--checkpoint/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
