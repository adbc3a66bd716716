// The embedding map's colours agree with class names that name a colour: "red-circle" is drawn red, never
// blue; the other classes take palette colours no named class uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { classColours, leadingColourWord } from '../../src/report/class-colours.js';
import { renderReport, writeRunJson } from '../../src/report/index.js';
import { PALETTE } from '../../src/report/svg-plot.js';

/** Hue in degrees (0–360) and saturation (0–1) of a #rrggbb colour, computed here rather than looked up. */
function hueOf(hex: string): { hue: number; saturation: number } {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const delta = max - min;
  let hue = 0;
  if (delta > 0) {
    if (max === r) hue = 60 * (((g - b) / delta + 6) % 6);
    else if (max === g) hue = 60 * ((b - r) / delta + 2);
    else hue = 60 * ((r - g) / delta + 4);
  }
  return { hue, saturation: max === 0 ? 0 : delta / max };
}

/** Hue ranges (degrees) that a reader calls by each name. */
const HUES: Record<string, [number, number][]> = {
  red: [[345, 360], [0, 12]],
  orange: [[20, 40]],
  yellow: [[42, 62]],
  green: [[80, 160]],
  cyan: [[170, 200]],
  blue: [[200, 250]],
  magenta: [[285, 330]],
  pink: [[330, 360], [0, 10]],
};
const inHue = (hex: string, word: string) => HUES[word].some(([a, b]) => hueOf(hex).hue >= a && hueOf(hex).hue <= b) && hueOf(hex).saturation > 0.3;

test('a class named after a colour is drawn in that colour; the rest take unused palette colours', () => {
  // The synthetic world's eight class colours, in its name format, in an order unlike the palette's.
  const names = ['blue-square-bounce/low-sine-steady', 'red-circle-orbit/mid-square-pulse', 'ball', 'green-triangle-drift/high-noise-steady', 'cyan-star-bounce/low-saw-pulse', 'yellow-ring', 'magenta-cross', 'orange-disc', 'pink-heart', 'redundant-noise'];
  const colours = classColours(names);
  names.forEach((name, i) => {
    const word = leadingColourWord(name);
    if (word) assert.ok(inHue(colours[i], word), `${name} is drawn ${colours[i]}, hue ${hueOf(colours[i]).hue.toFixed(0)}°: not ${word}`);
  });
  assert.equal(leadingColourWord('redundant-noise'), null, 'a word that only starts with "red" names no colour');
  assert.equal(leadingColourWord('Blue whale'), 'blue', 'case and separators do not matter');
  for (const unnamed of ['ball', 'redundant-noise']) assert.ok(PALETTE.includes(colours[names.indexOf(unnamed)]), `${unnamed} takes a palette colour`);
  assert.equal(new Set(colours).size, names.length, 'ten classes, ten colours: no unnamed class shares a named one\'s');
});

test('two classes of one colour word get two shades of it', () => {
  const [first, second] = classColours(['red-circle', 'red-square']);
  assert.notEqual(first, second);
  assert.ok(inHue(first, 'red') && inHue(second, 'red'), `${first} and ${second} are both red`);
});

test('the embedding map draws "red-circle" red and "blue-square" blue, in its points and its legend', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-class-colours-'));
  try {
    // Sorted, the legend lists blue-square first: by order alone it would take the palette's first colour.
    const labels = ['red-circle', 'blue-square', 'ball'];
    writeRunJson(dir, 'results/embedding.json', {
      points: labels.flatMap((label, c) => [0, 1, 2].map((k) => ({ x: c + 0.1 * k, y: c - 0.1 * k, label }))),
      modality: 'video',
    });
    const page = renderReport(dir).html;
    const start = page.indexOf('<section id="embedding"');
    const embedding = page.slice(start, page.indexOf('</section>', start));
    const legend = [...embedding.matchAll(/data-group="(\d+)"[^>]*><span class="swatch" style="background:(#[0-9a-f]{6})"><\/span><span class="label">([^<]+)<\/span>/g)].map((m) => ({ group: m[1], colour: m[2], label: m[3] }));
    assert.deepEqual(legend.map((l) => l.label), ['ball', 'blue-square', 'red-circle']);
    for (const { group, colour, label } of legend) {
      const fills = new Set([...embedding.matchAll(new RegExp(`<circle class="point" data-group="${group}"[^>]*fill="(#[0-9a-f]{6})"`, 'g'))].map((m) => m[1]));
      assert.deepEqual([...fills], [colour], `${label}: its points have its legend colour`);
      const word = leadingColourWord(label);
      if (word) assert.ok(inHue(colour, word), `${label} drawn ${colour}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
