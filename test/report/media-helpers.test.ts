// The helpers writers use to produce the report's media: PNG encoding, heatmap overlays, thumbnails, links.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodePng, extractThumbnail, heatColour, linkIntoRun, renderHeatmapOverlay, heatmapOverlayPng } from '../../src/report/index.js';

function withTempDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-report-media-'));
  return Promise.resolve(fn(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** Decodes an image file to RGB bytes with ffmpeg: an independent reader for our encoder's output. */
function decodeRgb(file: string): { width: number; height: number; rgb: Buffer } {
  const [width, height] = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file], { encoding: 'utf8' }).trim().split(',').map(Number);
  const rgb = execFileSync('ffmpeg', ['-loglevel', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 26 });
  return { width, height, rgb };
}

test('PNG files decode (by ffmpeg) to exactly the pixels encoded', () =>
  withTempDir((dir) => {
    const width = 37;
    const height = 23;
    const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 7919) % 256);
    writeFileSync(path.join(dir, 'a.png'), encodePng(width, height, rgb));
    const decoded = decodeRgb(path.join(dir, 'a.png'));
    assert.deepEqual([decoded.width, decoded.height], [width, height]);
    assert.ok(Buffer.from(rgb).equals(decoded.rgb));
    assert.throws(() => encodePng(2, 2, new Uint8Array(11)), /expected 12 bytes for 2 × 2 RGB, got 11/);
  }));

test('a heatmap overlay puts the heat where the scores are high and outlines the box', () => {
  const width = 40;
  const height = 30;
  const frame = new Uint8Array(width * height * 3).fill(128);
  // 4 × 3 scores, hottest in the top-right cell.
  const heat = [0, 0, 1, 5, 0, 0, 0, 1, 0, 0, 0, 0];
  const out = renderHeatmapOverlay({ frame, width, height, heat, heatWidth: 4, heatHeight: 3, box: { x0: 2, y0: 20, x1: 12, y1: 27 } });
  const pixel = (x: number, y: number) => [...out.subarray((y * width + x) * 3, (y * width + x) * 3 + 3)];
  const [r1, g1, b1] = pixel(37, 3);
  const [r2, , b2] = pixel(20, 25);
  assert.ok(r1 > 170 && r1 > g1 && r1 > b1, `hot corner is red: ${pixel(37, 3)}`);
  assert.ok(b2 > r2, `cold area leans blue: ${pixel(20, 25)}`);
  assert.deepEqual(pixel(2, 20), [255, 255, 255]);
  assert.deepEqual(pixel(12, 27), [255, 255, 255]);
  assert.deepEqual(pixel(7, 20), [255, 255, 255]);
  assert.notDeepEqual(pixel(7, 23), [255, 255, 255], 'inside the box is not painted');
  assert.deepEqual(heatColour(0), [30, 20, 110]);
  assert.deepEqual(heatColour(1), [230, 40, 30]);
  const flat = renderHeatmapOverlay({ frame, width, height, heat: new Array(12).fill(3), heatWidth: 4, heatHeight: 3 });
  assert.ok(flat.every((v, i) => v === flat[i % 3]), 'constant scores give a uniform tint, not NaN');
  assert.throws(() => heatmapOverlayPng({ frame, width, height, heat: [1, 2], heatWidth: 4, heatHeight: 3 }), /heat has 2 values, expected 4 × 3/);
});

test('thumbnails come from the requested time of a video; dataset files are linked or copied into the run', () =>
  withTempDir(async (dir) => {
    const video = path.join(dir, 'clip.mp4');
    // Red for the first second, blue for the second.
    execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=red:s=64x48:r=10:d=1', '-f', 'lavfi', '-i', 'color=c=blue:s=64x48:r=10:d=1', '-filter_complex', '[0][1]concat=n=2:v=1', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', video]);
    const runDir = path.join(dir, 'run');
    assert.equal(await extractThumbnail(video, runDir, 'thumbs/a.jpg', { seconds: 0.2, width: 32 }), 'thumbs/a.jpg');
    assert.equal(await extractThumbnail(video, runDir, 'thumbs/b.png', { seconds: 1.5, width: 32 }), 'thumbs/b.png');
    assert.deepEqual([...readFileSync(path.join(runDir, 'thumbs/a.jpg')).subarray(0, 2)], [0xff, 0xd8], 'a JPEG');
    const a = decodeRgb(path.join(runDir, 'thumbs/a.jpg'));
    const b = decodeRgb(path.join(runDir, 'thumbs/b.png'));
    assert.deepEqual([a.width, a.height], [32, 24]);
    assert.ok(a.rgb[0] > 200 && a.rgb[2] < 60, `0.2 s is red: ${[...a.rgb.subarray(0, 3)]}`);
    assert.ok(b.rgb[2] > 200 && b.rgb[0] < 60, `1.5 s is blue: ${[...b.rgb.subarray(0, 3)]}`);
    await assert.rejects(extractThumbnail(video, runDir, 'thumbs/a.jpg', { seconds: 30 }), /no frame there \(past the end\?\)/);
    assert.ok(!existsSync(path.join(runDir, 'thumbs/a.jpg')), 'the old thumbnail does not pass for the missing one');
    await assert.rejects(extractThumbnail(video, runDir, '../out.jpg'), /must be a path inside the run directory/);
    await assert.rejects(extractThumbnail(path.join(dir, 'none.mp4'), runDir, 'x.jpg'), /video not found/);

    assert.equal(linkIntoRun(runDir, video, 'media/clip.mp4'), 'media/clip.mp4');
    assert.ok(lstatSync(path.join(runDir, 'media/clip.mp4')).isSymbolicLink());
    linkIntoRun(runDir, video, 'media/clip.mp4', 'copy');
    assert.ok(lstatSync(path.join(runDir, 'media/clip.mp4')).isFile(), 'a copy replaces the link');
    assert.throws(() => linkIntoRun(runDir, video, '/tmp/elsewhere.mp4'), /must be a path inside the run directory/);
    assert.throws(() => linkIntoRun(runDir, path.join(dir, 'none.mp4'), 'media/x.mp4'), /file not found/);
  }));
