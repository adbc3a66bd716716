import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, formatNumber, formatPercent, html, isFractionScale, raw } from '../../src/report/html.js';
import { downsample, formatTick, linePlot, niceTicks, scatterPlot } from '../../src/report/svg-plot.js';

test('html escapes every interpolated string, keeps nested html and joins arrays', () => {
  const name = '<script>alert("x")</script> & \'q\'';
  const out = html`<td title="${name}">${name}</td>${[html`<b>${'<i>'}</b>`, '<u>']}${raw('<br>')}${null}${undefined}${false}${0}`.value;
  assert.equal(
    out,
    '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;</td><b>&lt;i&gt;</b>&lt;u&gt;<br>0',
  );
  assert.equal(escapeHtml('a&b'), 'a&amp;b');
});

test('numbers and percentages format for reading', () => {
  assert.equal(formatNumber(3), '3');
  assert.equal(formatNumber(2.5), '2.5');
  assert.equal(formatNumber(1 / 3, 4), '0.3333');
  assert.equal(formatNumber(0.00001234), '1.23e-5');
  assert.equal(formatNumber(NaN), '—');
  assert.equal(isFractionScale([0.2, 0.9, 1]), true);
  assert.equal(isFractionScale([0.8, 83]), false, 'one value above 1 means the table is in percent');
  assert.equal(formatPercent(0.834, true), '83.4%');
  assert.equal(formatPercent(0.8, false), '0.8%');
});

test('nice ticks are round and cover the range', () => {
  assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(0.12, 0.93, 5), [0.2, 0.4, 0.6, 0.8]);
  assert.deepEqual(niceTicks(0, 0.01, 5), [0, 0.002, 0.004, 0.006, 0.008, 0.01]);
  assert.deepEqual(niceTicks(0, 0.001, 4).map(formatTick), ['0', '0.00025', '0.0005', '0.00075', '0.001']);
  const flat = niceTicks(3, 3, 5);
  assert.ok(flat.length >= 2 && flat[0] <= 3 && flat[flat.length - 1] >= 3, 'a constant series still gets an axis');
});

test('a line plot draws one path per series through every point, and escapes its labels', () => {
  const points: Array<[number, number]> = Array.from({ length: 50 }, (_, i) => [i, Math.sin(i / 5)]);
  const svg = linePlot({ title: '<b>loss</b>', xLabel: 'step', yLabel: 'loss', series: [{ name: 'a', points }, { name: 'b<', points: points.map(([x, y]) => [x, y * 2]) }] }).value;
  const paths = [...svg.matchAll(/<path class="series" d="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(paths.length, 2);
  for (const d of paths) assert.equal(d.split('L').length, 50);
  assert.ok(svg.includes('&lt;b&gt;loss&lt;/b&gt;') && !svg.includes('<b>'));
  assert.ok(svg.includes('b&lt;'));
  const coordinates = paths[0].replace('M', '').split('L').map((p) => p.split(',').map(Number));
  for (const [x, y] of coordinates) assert.ok(x >= 72 && x <= 544 && y >= 0 && y <= 360, `(${x}, ${y}) inside the plot`);
});

test('downsampling keeps the extremes of each bucket', () => {
  const points: Array<[number, number]> = Array.from({ length: 10_000 }, (_, i) => [i, i === 5_555 ? 100 : Math.sin(i)]);
  const reduced = downsample(points, 400);
  assert.ok(reduced.length <= 400);
  assert.ok(reduced.some(([, y]) => y === 100), 'the spike survives');
  assert.ok(reduced.every((p, i) => i === 0 || p[0] > reduced[i - 1][0]), 'x stays increasing');
});

test('a scatter plot draws one circle per point with its group', () => {
  const svg = scatterPlot({ title: 't', points: [{ x: 0, y: 0, group: 0, tooltip: '<a>' }, { x: 1, y: 2, group: 3, tooltip: 'b' }] }).value;
  assert.equal([...svg.matchAll(/<circle class="point" data-group="(\d+)"/g)].map((m) => m[1]).join(','), '0,3');
  assert.ok(svg.includes('<title>&lt;a&gt;</title>'));
});
