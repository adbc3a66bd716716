// Small SVG plots drawn here (no plotting library, no network): line plots for training curves, grouped bars
// for probe scores, and a scatter plot for the embedding map. Every label goes through `html`, so it is escaped.
import { html, joinHtml, formatNumber, SafeHtml } from './html.js';

/** Distinct colours (Tableau 10, then a second set), cycled for more classes. */
export const PALETTE = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac',
  '#1f77b4', '#aec7e8', '#ff7f0e', '#2ca02c', '#98df8a', '#d62728', '#9467bd', '#c5b0d5', '#8c564b', '#17becf',
];

export function colourFor(index: number): string {
  return PALETTE[index % PALETTE.length];
}

/** Round tick values ("nice numbers": 1, 2, 5 × 10^k) covering [min, max]. */
export function niceTicks(min: number, max: number, targetCount = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const rawStep = (max - min) / Math.max(1, targetCount);
  const magnitude = 10 ** Math.floor(Math.log10(rawStep));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rawStep) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step - 1e-9) * step; t <= max + step * 1e-9; t += step) {
    ticks.push(Math.abs(t) < step * 1e-9 ? 0 : Number(t.toPrecision(12)));
  }
  return ticks;
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

const FRAME: Frame = { width: 560, height: 300, left: 72, right: 16, top: 30, bottom: 44 };

/** A tick label: ticks are round numbers already, so the shortest exact decimal reads best (0.00075, 250, 1e-7). */
export function formatTick(value: number): string {
  return String(Number(value.toPrecision(6)));
}

class Scale {
  constructor(
    private readonly domain: [number, number],
    private readonly range: [number, number],
  ) {}
  map(value: number): number {
    const [d0, d1] = this.domain;
    const [r0, r1] = this.range;
    return d1 === d0 ? (r0 + r1) / 2 : r0 + ((value - d0) / (d1 - d0)) * (r1 - r0);
  }
}

function extent(values: number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

/** Ticks that extend the extent to round numbers, so the data fills the plot between labelled lines. */
function axisTicks(lo: number, hi: number, count: number): { ticks: number[]; domain: [number, number] } {
  const inner = niceTicks(lo, hi, count);
  if (inner.length < 2) return { ticks: inner, domain: [lo, hi === lo ? lo + 1 : hi] };
  const step = inner[1] - inner[0];
  const domain: [number, number] = [Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step];
  if (domain[1] === domain[0]) domain[1] += step;
  return { ticks: niceTicks(domain[0], domain[1], count), domain };
}

function svgOpen(frame: Frame, title: string, className: string): SafeHtml {
  return html`<svg class="plot ${className}" viewBox="0 0 ${frame.width} ${frame.height}" width="${frame.width}" height="${frame.height}" role="img" aria-label="${title}" xmlns="http://www.w3.org/2000/svg">`;
}

function axes(frame: Frame, x: Scale, y: Scale, xTicks: number[], yTicks: number[], xLabel: string, yLabel: string, title: string, yTickLabel: (t: number) => string = formatTick): SafeHtml {
  const plotBottom = frame.height - frame.bottom;
  const plotRight = frame.width - frame.right;
  const yGrid = yTicks.map((t) => {
    const py = y.map(t).toFixed(1);
    return html`<line class="grid" x1="${frame.left}" x2="${plotRight}" y1="${py}" y2="${py}"/><text class="tick" x="${frame.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${yTickLabel(t)}</text>`;
  });
  const xGrid = xTicks.map((t) => {
    const px = x.map(t).toFixed(1);
    return html`<line class="grid" x1="${px}" x2="${px}" y1="${frame.top}" y2="${plotBottom}"/><text class="tick" x="${px}" y="${plotBottom + 16}" text-anchor="middle">${formatTick(t)}</text>`;
  });
  return html`<text class="plot-title" x="${frame.left}" y="18">${title}</text>
${yGrid}${xGrid}<rect class="frame" x="${frame.left}" y="${frame.top}" width="${plotRight - frame.left}" height="${plotBottom - frame.top}"/>
<text class="axis-label" x="${(frame.left + plotRight) / 2}" y="${frame.height - 6}" text-anchor="middle">${xLabel}</text>
<text class="axis-label" transform="translate(14 ${(frame.top + plotBottom) / 2}) rotate(-90)" text-anchor="middle">${yLabel}</text>`;
}

/**
 * A legend in a band under the title, entries flowing left to right and wrapping, so that it never covers
 * data. Returns the markup and how much the plot's top margin must grow to make room for it.
 */
function legend(frame: Frame, names: string[]): { markup: SafeHtml; height: number } {
  if (names.length < 2) return { markup: html``, height: 0 };
  const rowHeight = 15;
  let x = frame.left;
  let row = 0;
  const items = names.map((name, i) => {
    const width = 32 + 6.4 * name.length;
    if (x + width > frame.width - frame.right && x > frame.left) {
      x = frame.left;
      row++;
    }
    const y = 34 + row * rowHeight;
    const item = html`<rect x="${x.toFixed(1)}" y="${y - 2}" width="14" height="4" fill="${colourFor(i)}"/><text class="legend-text" x="${(x + 18).toFixed(1)}" y="${y}" dominant-baseline="middle">${name}</text>`;
    x += width;
    return item;
  });
  return { markup: html`<g class="legend">${items}</g>`, height: (row + 1) * rowHeight + 4 };
}

export interface LineSeries {
  name: string;
  points: Array<[number, number]>;
}

export interface LinePlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  /** Vertical marker lines (e.g. the first step of each epoch), with labels. */
  markers?: Array<{ x: number; label: string }>;
  /** Stage changes (e.g. "cross-avid → cma"): a solid line with its label written in the plot. */
  stages?: Array<{ x: number; label: string }>;
  /** A log10 y axis (points at or below zero are left out). */
  logY?: boolean;
  /**
   * Also draw each series smoothed by an exponential moving average with this weight (TensorBoard's
   * debiased EMA; 0.6 is its default), as paths of class "smoothed" that the page can show or hide.
   */
  smoothing?: number;
  /** Extra class names on the <svg> (e.g. to tell alternative views of one figure apart). */
  className?: string;
  /** Plots with more points than this are reduced to the min and max of each of maxPoints/2 buckets (spikes stay visible). */
  maxPoints?: number;
}

/** Reduces a long series for drawing, keeping each bucket's minimum and maximum in x order. */
export function downsample(points: Array<[number, number]>, maxPoints: number): Array<[number, number]> {
  if (points.length <= maxPoints) return points;
  const buckets = Math.max(1, Math.floor(maxPoints / 2));
  const size = points.length / buckets;
  const out: Array<[number, number]> = [];
  for (let b = 0; b < buckets; b++) {
    const slice = points.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    if (slice.length === 0) continue;
    let lo = slice[0];
    let hi = slice[0];
    for (const p of slice) {
      if (p[1] < lo[1]) lo = p;
      if (p[1] > hi[1]) hi = p;
    }
    if (lo === hi) out.push(lo);
    else out.push(...(lo[0] <= hi[0] ? [lo, hi] : [hi, lo]));
  }
  return out;
}

/** TensorBoard's smoothing: an exponential moving average, debiased so that the first points are not pulled to 0. */
export function smoothSeries(points: Array<[number, number]>, weight: number): Array<[number, number]> {
  let last = 0;
  return points.map(([px, py], i) => {
    last = last * weight + (1 - weight) * py;
    return [px, last / (1 - weight ** (i + 1))];
  });
}

/** Ticks of a log10 axis, in log units: 1, 2, 5 × 10^k when few decades are shown, 10^k otherwise. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  const decades = hi - lo;
  for (let k = Math.floor(lo); k <= Math.ceil(hi); k++)
    for (const m of decades > 3 ? [1] : [1, 2, 5]) {
      const t = k + Math.log10(m);
      if (t >= lo - 1e-9 && t <= hi + 1e-9) ticks.push(t);
    }
  return ticks;
}

export function linePlot(options: LinePlotOptions): SafeHtml {
  const key = legend(FRAME, options.series.map((s) => s.name));
  const frame = { ...FRAME, top: FRAME.top + key.height, height: FRAME.height + key.height };
  const usable = (points: Array<[number, number]>) =>
    points
      .filter(([px, py]) => Number.isFinite(px) && Number.isFinite(py) && (!options.logY || py > 0))
      .map(([px, py]) => [px, options.logY ? Math.log10(py) : py] as [number, number]);
  const series = options.series.map((s) => ({
    name: s.name,
    points: downsample(usable(s.points), options.maxPoints ?? 1200),
    // Smoothed in the data's own units (then logged), as TensorBoard does.
    smoothed: options.smoothing === undefined ? [] : downsample(usable(smoothSeries(s.points.filter(([px, py]) => Number.isFinite(px) && Number.isFinite(py)), options.smoothing)), options.maxPoints ?? 1200),
  }));
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const [x0, x1] = extent(xs);
  const [y0, y1] = extent(ys);
  const xAxis = axisTicks(x0, x1, 6);
  const yAxis = options.logY
    ? { domain: (y1 - y0 < 0.3 ? [y0 - 0.15, y1 + 0.15] : [y0, y1]) as [number, number], ticks: [] as number[] }
    : axisTicks(y0, y1, 5);
  if (options.logY) yAxis.ticks = logTicks(yAxis.domain[0], yAxis.domain[1]);
  const x = new Scale([x0, x1 === x0 ? x0 + 1 : x1], [frame.left, frame.width - frame.right]);
  const y = new Scale(yAxis.domain, [frame.height - frame.bottom, frame.top]);
  const xTicks = xAxis.ticks.filter((t) => t >= x0 && t <= (x1 === x0 ? x0 + 1 : x1));
  const paths = series.map((s, i) => {
    if (s.points.length === 0) return html``;
    const colour = colourFor(i);
    if (s.points.length === 1) {
      const [px, py] = s.points[0];
      return html`<circle class="series-point" cx="${x.map(px).toFixed(1)}" cy="${y.map(py).toFixed(1)}" r="3" fill="${colour}"><title>${s.name}: ${formatNumber(py, 4)}</title></circle>`;
    }
    const line = (points: Array<[number, number]>) => points.map(([px, py], j) => `${j === 0 ? 'M' : 'L'}${x.map(px).toFixed(1)},${y.map(py).toFixed(1)}`).join('');
    const value = (py: number) => formatNumber(options.logY ? 10 ** py : py, 4);
    const smoothed = s.smoothed.length > 1 ? html`<path class="smoothed" d="${line(s.smoothed)}" stroke="${colour}" fill="none"><title>${s.name} (smoothed)</title></path>` : '';
    // Hover values: an invisible dot per drawn point (at most 300 per series) with its step and value.
    const every = Math.max(1, Math.ceil(s.points.length / 300));
    const dots = s.points
      .filter((_, j) => j % every === 0)
      .map(([px, py]) => html`<circle class="hover" cx="${x.map(px).toFixed(1)}" cy="${y.map(py).toFixed(1)}" r="3" fill="${colour}"><title>${s.name} at ${options.xLabel} ${formatNumber(px, 4)}: ${value(py)}</title></circle>`);
    return html`<path class="series" d="${line(s.points)}" stroke="${colour}" fill="none"><title>${s.name}</title></path>${smoothed}<g class="hover-points">${dots}</g>`;
  });
  const markers = (options.markers ?? [])
    .filter((m) => m.x > x0 && m.x <= x1)
    .map((m) => {
      const px = x.map(m.x).toFixed(1);
      return html`<line class="marker" x1="${px}" x2="${px}" y1="${frame.top}" y2="${frame.height - frame.bottom}"><title>${m.label}</title></line>`;
    });
  const stages = (options.stages ?? [])
    .filter((m) => m.x >= x0 && m.x <= x1)
    .map((m, i) => {
      const px = x.map(m.x);
      // Labels sit right of their line, or left of it near the right edge; successive ones step down.
      const right = px < frame.width - frame.right - 6.2 * m.label.length - 8;
      const ty = frame.top + 12 + 13 * (i % 4);
      return html`<line class="stage" x1="${px.toFixed(1)}" x2="${px.toFixed(1)}" y1="${frame.top}" y2="${frame.height - frame.bottom}"><title>${m.label} at step ${m.x}</title></line><text class="stage-label" x="${(right ? px + 4 : px - 4).toFixed(1)}" y="${ty}" text-anchor="${right ? 'start' : 'end'}">${m.label}</text>`;
    });
  const yTickLabel = options.logY ? (t: number) => formatTick(Number((10 ** t).toPrecision(3))) : formatTick;
  return html`${svgOpen(frame, options.title, `line-plot ${options.className ?? ''}`.trim())}${axes(frame, x, y, xTicks, yAxis.ticks, options.xLabel, options.logY ? `${options.yLabel} (log scale)` : options.yLabel, options.title, yTickLabel)}${markers}${stages}${paths}${key.markup}</svg>`;
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  /** Title of the group axis (e.g. "block"). */
  xLabel?: string;
  /** Names of the bars within each group (e.g. pretrained, random init). */
  seriesNames: string[];
  groups: Array<{ label: string; values: number[] }>;
  /** Fixed top of the y axis (e.g. 1 for accuracies as fractions); otherwise from the data. */
  yMax?: number;
  format?: (value: number) => string;
  /** One standard error per bar (same shape as the values; null where unknown): drawn as whiskers. */
  errors?: Array<Array<number | null>>;
  /** Horizontal reference lines (e.g. chance), labelled inside the plot. */
  references?: Array<{ value: number; label: string }>;
}

/** Approximate width of a tick label in px (10.5 px system font): to decide when group labels must turn. */
function labelWidth(text: string): number {
  return 6 * text.length;
}

export function barChart(options: BarChartOptions): SafeHtml {
  const key = legend(FRAME, options.seriesNames);
  // Group labels that do not fit side by side are turned upright (their boxes then cannot overlap; at a slant
  // they can) and the bottom margin grows to hold them.
  const slots = (FRAME.width - FRAME.left - FRAME.right) / Math.max(1, options.groups.length);
  const longest = Math.max(0, ...options.groups.map((g) => labelWidth(g.label)));
  const turned = longest > slots - 6;
  const labelDrop = turned ? Math.ceil(longest) - 4 : 0;
  const bottom = 56 + labelDrop;
  const frame = { ...FRAME, bottom, top: FRAME.top + key.height, height: FRAME.height + key.height + labelDrop };
  const values = options.groups.flatMap((g, gi) => g.values.map((v, si) => v + (options.errors?.[gi]?.[si] ?? 0)));
  const [lo, hi] = extent(values.concat([0], (options.references ?? []).map((r) => r.value)));
  const top = options.yMax ?? hi;
  const yAxis = axisTicks(Math.min(0, lo), top, 5);
  const y = new Scale(yAxis.domain, [frame.height - frame.bottom, frame.top]);
  const plotWidth = frame.width - frame.left - frame.right;
  const groupWidth = plotWidth / Math.max(1, options.groups.length);
  const barWidth = (groupWidth * 0.75) / Math.max(1, options.seriesNames.length);
  const format = options.format ?? ((v: number) => formatNumber(v, 3));
  const bars = options.groups.map((group, g) => {
    const groupLeft = frame.left + g * groupWidth + groupWidth * 0.125;
    const rects = group.values.map((value, s) => {
      // A model without a score for this group (NaN) leaves its slot empty.
      if (!Number.isFinite(value)) return html``;
      const top = y.map(Math.max(0, value));
      const bottom = y.map(Math.min(0, value));
      const bx = groupLeft + s * barWidth;
      const centre = bx + barWidth / 2 - 1;
      const error = options.errors?.[g]?.[s];
      const whisker =
        error !== undefined && error !== null && error > 0
          ? html`<path class="error-bar" d="M${centre.toFixed(1)},${y.map(value - error).toFixed(1)}V${y.map(value + error).toFixed(1)}M${(centre - 3).toFixed(1)},${y.map(value + error).toFixed(1)}h6M${(centre - 3).toFixed(1)},${y.map(value - error).toFixed(1)}h6"><title>± ${format(error)} (one standard error)</title></path>`
          : '';
      // Value labels only where they fit above their own bar (tooltips carry them otherwise).
      const valueLabel =
        barWidth >= labelWidth(format(value)) + 2
          ? html`<text class="bar-value" x="${centre.toFixed(1)}" y="${(y.map(value + (error ?? 0)) - 3).toFixed(1)}" text-anchor="middle">${format(value)}</text>`
          : '';
      return html`<rect class="bar" x="${bx.toFixed(1)}" y="${top.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${Math.max(0.5, bottom - top).toFixed(1)}" fill="${colourFor(s)}"><title>${group.label} — ${options.seriesNames[s]}: ${format(value)}${error ? ` ± ${format(error)}` : ''}</title></rect>${whisker}${valueLabel}`;
    });
    const lx = (frame.left + (g + 0.5) * groupWidth).toFixed(1);
    const ly = frame.height - frame.bottom + 16;
    const label = turned
      ? html`<text class="tick group-label" x="${lx}" y="${ly - 10}" text-anchor="end" dominant-baseline="middle" transform="rotate(-90 ${lx} ${ly - 10})">${group.label}</text>`
      : html`<text class="tick group-label" x="${lx}" y="${ly}" text-anchor="middle">${group.label}</text>`;
    return html`${rects}${label}`;
  });
  const references = (options.references ?? []).map((r) => {
    const py = y.map(r.value).toFixed(1);
    return html`<line class="reference" x1="${frame.left}" x2="${frame.width - frame.right}" y1="${py}" y2="${py}"><title>${r.label}: ${format(r.value)}</title></line><text class="reference-label" x="${frame.width - frame.right - 4}" y="${(Number(py) - 4).toFixed(1)}" text-anchor="end">${r.label}</text>`;
  });
  const x = new Scale([0, 1], [frame.left, frame.width - frame.right]);
  return html`${svgOpen(frame, options.title, 'bar-chart')}${axes(frame, x, y, [], yAxis.ticks, options.xLabel ?? '', options.yLabel, options.title)}${bars}${references}${key.markup}</svg>`;
}

export interface ScatterPoint {
  x: number;
  y: number;
  /** Index into the class list: picks the colour and ties the point to its legend entry. */
  group: number;
  tooltip: string;
}

/** `colours[group]`, when given, is each group's colour (e.g. from its class name); else the palette's. */
export function scatterPlot(options: { title: string; points: ScatterPoint[]; size?: number; colours?: string[] }): SafeHtml {
  const size = options.size ?? 520;
  const frame: Frame = { width: size, height: size, left: 16, right: 16, top: 30, bottom: 16 };
  const [x0, x1] = extent(options.points.map((p) => p.x));
  const [y0, y1] = extent(options.points.map((p) => p.y));
  // Same units on both axes: a t-SNE map's distances mean the same thing horizontally and vertically.
  const span = Math.max(x1 - x0, y1 - y0) || 1;
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const inner = size - 2 * 24;
  const x = new Scale([cx - span / 2, cx + span / 2], [24, 24 + inner]);
  const y = new Scale([cy - span / 2, cy + span / 2], [frame.top + inner - 6, frame.top]);
  const radius = options.points.length > 800 ? 2.5 : 4;
  const circles = options.points.map(
    (p) =>
      html`<circle class="point" data-group="${p.group}" cx="${x.map(p.x).toFixed(1)}" cy="${y.map(p.y).toFixed(1)}" r="${radius}" fill="${options.colours?.[p.group] ?? colourFor(p.group)}"><title>${p.tooltip}</title></circle>`,
  );
  return html`${svgOpen(frame, options.title, 'scatter-plot')}<text class="plot-title" x="${frame.left}" y="18">${options.title}</text><rect class="frame" x="8" y="${frame.top - 8}" width="${size - 16}" height="${size - frame.top}"/>${joinHtml(circles)}</svg>`;
}
