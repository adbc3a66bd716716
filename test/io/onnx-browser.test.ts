// The browser example (docs/onnx-browser): its JavaScript spectrogram equals avid's on real ESC-10 audio, in
// both front ends; and in headless Chromium, the page embeds a chosen sound file with onnxruntime-web and the
// exported audio model, giving avid's embedding within 1e-4 relative error. Bad files give a message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import * as T from '../../src/tensor/index.js';
import { hashFillStateDict, type AVModel } from '../../src/models/index.js';
import { readRunArtifact, disposeArtifact, type RunArtifact } from '../../src/train/run-artifact.js';
import { decodeAudio } from '../../src/media/decode.js';
import { audioSpectrogram, spectrogramConfigFor } from '../../src/media/audio-input.js';
import { normalizeSpectrogram, type AudioFrontendName, type SpectrogramStats } from '../../src/media/spectrogram.js';
import { clipGeometry, audioInputFor } from '../../src/eval/clip-geometry.js';
import { exportOnnx } from '../../src/cli/commands/export.js';
// The page's own module, loaded by Node as the browser loads it.
import { logSpectrogram, normaliseSpectrogram } from '../../docs/onnx-browser/avid-audio.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const esc10 = path.resolve(repoRoot, '../shared/data/esc10');
const SOUNDS = ['001_-_Dog_bark_1-100032-A.ogg', '006_-_Person_sneeze_1-26143-A.ogg'];
const CHROMIUM = process.env.AVID_CHROMIUM ?? '/usr/bin/chromium';
const browserSkip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (apt-get install -y chromium): browser test skipped`;

/** The spectrogram settings of both front ends in both of the papers' settings (analysis, comparison). */
const SETTINGS = (['paper', 'reference'] as const).flatMap((frontend) =>
  [
    { freqBins: 129, hopSeconds: 0.02 },
    { freqBins: 257, hopSeconds: 0.01 },
  ].map((s) => spectrogramConfigFor({ sampleRate: 24000, windowSeconds: 0.02, frontend, ...s })),
);

test('the page\'s JavaScript spectrogram equals avid\'s on ESC-10 audio, both front ends, both settings', async (t) => {
  for (const sound of SOUNDS) {
    const { samples } = await decodeAudio(path.join(esc10, sound), { startSec: 0.5, durationSec: 2, sampleRate: 24000 });
    for (const config of SETTINGS) {
      const what = `${sound} ${config.frontend ?? 'paper'} ${config.freqBins} bins`;
      const avid = T.tidy(() => audioSpectrogram(T.tensor(samples, [1, samples.length]), config));
      const want = avid.toFloat32Array();
      const got = logSpectrogram(samples, config);
      assert.deepEqual([1, 1, got.frames, got.bins], avid.shape, what);
      // avid's stft is float32, the page's float64: the difference is float32 rounding of each frame's FFT,
      // which scales with the frame's energy (a misplaced window or wrong padding gives errors of order 1).
      const power = (x: number) => (config.frontend === 'paper' ? Math.exp(x) : 10 ** (x / 10));
      let worst = 0;
      for (let t = 0; t < got.frames; t++) {
        let energy = 0;
        for (let f = 0; f < got.bins; f++) energy += power(want[t * got.bins + f]);
        for (let f = 0; f < got.bins; f++) {
          const i = t * got.bins + f;
          worst = Math.max(worst, Math.abs(power(want[i]) - power(got.data[i])) / energy);
        }
      }
      t.diagnostic(`${what}: worst power error ${worst.toExponential(2)} of the frame's energy`);
      assert.ok(worst < 1e-5, `${what}: power error ${worst.toExponential(2)} of the frame's energy`);

      // The normalisation: the same float32 operations as avid's, so identical on the same spectrogram.
      const stats: SpectrogramStats = { config, mean: Array.from({ length: config.freqBins }, (_, f) => -8 + f / 50), std: Array.from({ length: config.freqBins }, (_, f) => 2 + f / 100), frames: 1, clips: 1 };
      const normalised = normalizeSpectrogram(avid, stats);
      const page = normaliseSpectrogram({ data: Float32Array.from(want), frames: got.frames, bins: got.bins }, { mean: stats.mean, std: stats.std, stdFloor: 1e-5 });
      assert.deepEqual(page.data, normalised.toFloat32Array(), `${what}: normalisation`);
      avid.dispose();
      normalised.dispose();
    }
  }
});

/** A static server of the repository (the page and node_modules/onnxruntime-web) with /model/ → `modelDir`. */
async function serve(modelDir: string): Promise<{ server: Server; url: string }> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm', '.onnx': 'application/octet-stream' };
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const relative = decodeURIComponent(url.pathname);
    const file = relative.startsWith('/model/') ? path.join(modelDir, relative.slice('/model/'.length)) : path.join(repoRoot, relative);
    const root = relative.startsWith('/model/') ? modelDir : repoRoot;
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** A small AV model with non-trivial weights, audio statistics and the given front end, exported to `dir`. */
function exportModel(dir: string, frontend: AudioFrontendName): RunArtifact {
  const artifact = readRunArtifact('random', { random: { model: 'av-r2plus1d-10', width: 0.125, frames: 4, size: 32 } });
  hashFillStateDict(artifact.net.model.stateDict());
  artifact.config = { ...artifact.config, audio: { ...artifact.config.audio, frontend } };
  const config = spectrogramConfigFor(clipGeometry(artifact.config));
  const [mean, spread] = frontend === 'paper' ? [-9, 3] : [-40, 12];
  artifact.audioStats = { config, mean: Array.from({ length: config.freqBins }, (_, f) => mean - f / 40), std: Array.from({ length: config.freqBins }, (_, f) => spread + f / 100), frames: 1, clips: 1 };
  exportOnnx(artifact, dir);
  return artifact;
}

type PageResult = { embedding?: number[]; error?: string; samples?: number; start?: number };

/** Does `action` on the page and waits for the embedding (or the error) it leads to. */
async function pageResult(page: Page, action: () => Promise<void>): Promise<PageResult> {
  await page.evaluate(() => {
    delete (window as { avidResult?: unknown }).avidResult;
  });
  await action();
  await page.waitForFunction(() => (window as { avidResult?: unknown }).avidResult !== undefined, null, { timeout: 60_000 });
  return page.evaluate(() => (window as { avidResult?: PageResult }).avidResult!);
}

const chooseFile = (page: Page, file: string) => pageResult(page, () => page.setInputFiles('#file', file));
const setStart = (page: Page, seconds: number) => pageResult(page, () => page.fill('#start', String(seconds)).then(() => page.dispatchEvent('#start', 'change')));

test('in headless Chromium the page embeds a chosen sound file as avid does (1e-4), both front ends', { skip: browserSkip, timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-onnx-browser-'));
  let browser: Browser | null = null;
  let server: Server | null = null;
  try {
    // A 24 kHz mono float WAV: the browser decodes it without resampling or conversion, to the samples avid's
    // decoder gives (a 16-bit one would not do: Chromium scales positive samples by 1/32767, FFmpeg by 1/32768).
    const wav = path.join(dir, 'dog bark.wav');
    const ffmpeg = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', path.join(esc10, SOUNDS[0]), '-ss', '0.5', '-t', '2.5', '-ac', '1', '-ar', '24000', '-c:a', 'pcm_f32le', wav]);
    assert.equal(ffmpeg.status, 0, String(ffmpeg.stderr));
    const short = path.join(dir, 'short.wav');
    assert.equal(spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', wav, '-t', '0.5', '-c:a', 'pcm_f32le', short]).status, 0);
    const notAudio = path.join(dir, 'notes.wav');
    writeFileSync(notAudio, 'this is text, not a sound');

    const served = await serve(dir);
    server = served.server;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    for (const frontend of ['paper', 'reference'] as const) {
      const modelDir = path.join(dir, frontend);
      const artifact = exportModel(modelDir, frontend);
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(`${served.url}/docs/onnx-browser/index.html?model=/model/${frontend}/`);
        await page.waitForFunction(() => document.body.dataset.status === 'ready' || document.body.dataset.status === 'error', null, { timeout: 60_000 });
        assert.equal(await page.evaluate(() => document.body.dataset.status), 'ready', `${frontend}: ${await page.textContent('#status')}`);

        const model = artifact.net.model as AVModel;
        model.eval();
        const geometry = clipGeometry(artifact.config, artifact.audioStats);
        for (const [start, result] of [[0, await chooseFile(page, wav)], [0.5, await setStart(page, 0.5)]] as const) {
          assert.equal(result.error, undefined, `${frontend}: ${result.error}`);
          assert.equal(result.start, start);
          // avid's embedding of the same clip: its decoder, its spectrogram and normalisation, its model.
          const { samples } = await decodeAudio(wav, { startSec: start, durationSec: geometry.audioSeconds, sampleRate: geometry.sampleRate });
          const want = T.tidy(() => model.embedAudio(audioInputFor(geometry, T.tensor(samples, [1, samples.length]))).toFloat32Array().slice());
          const got = result.embedding!;
          assert.equal(got.length, want.length);
          const error = Math.hypot(...got.map((v, i) => v - want[i])) / Math.hypot(...want);
          t.diagnostic(`${frontend}, clip from ${start} s: relative error of the page's embedding against avid's: ${error.toExponential(2)}`);
          assert.ok(error < 1e-4, `${frontend}, clip from ${start} s: the page's embedding differs from avid's by ${error.toExponential(2)} (relative)`);
        }
        // A clip that would end after the sound.
        assert.match((await setStart(page, 1)).error ?? '', /the sound has 2\.50 s at 24000 Hz; the model takes clips of 2 s \(from 1 s\)/);
        await setStart(page, 0);

        const tooShort = await chooseFile(page, short);
        assert.match(tooShort.error ?? '', /the sound has 0\.50 s at 24000 Hz; the model takes clips of 2 s/);
        const garbage = await chooseFile(page, notAudio);
        assert.match(garbage.error ?? '', /notes\.wav: the browser cannot decode it as audio/);
        assert.equal(await page.evaluate(() => document.body.dataset.status), 'error');
        assert.deepEqual(errors, []);
        await page.close();
      } finally {
        disposeArtifact(artifact);
      }
    }
    // A model folder without an export gives a message, not a blank page.
    const page = await browser.newPage();
    await page.goto(`${served.url}/docs/onnx-browser/index.html?model=/model/nothing-here/`);
    await page.waitForFunction(() => document.body.dataset.status === 'error', null, { timeout: 60_000 });
    assert.match((await page.textContent('#status')) ?? '', /cannot load the model: .*export\.json: HTTP 404/);
  } finally {
    await browser?.close();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
