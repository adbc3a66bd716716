// Accuracy against a training budget (epochs, or number of training videos on a log axis), as the analyses
// draw it: the mean with a ±1 standard-error band, and horizontal reference levels (chance, a random
// initialisation). The other plots (svg-plot.ts) have no bands, no log axis and no reference lines.
import { html, formatNumber, type SafeHtml } from './html.js';
import { colourFor, formatTick, niceTicks } from './svg-plot.js';

export interface CurvePoint {
  x: number;
  /** Accuracy in [0, 1]. */
  y: number;
  /** One standard error (fraction). */
  se: number;
  /** Hover text. */
  label?: string;
}

export interface ReferenceLevel {
  name: string;
  y: number;
  /** Drawn as a band of ±se when given. */
  se?: number;
}

export interface AccuracyCurveOptions {
  title: string;
  xLabel: string;
  points: CurvePoint[];
  levels?: ReferenceLevel[];
  /** Logarithmic x axis (base 2 ticks): the data-size analysis, whose budgets double. */
  logX?: boolean;
}

const W = 600;
const H = 330;
const M = { left: 64, right: 16, top: 54, bottom: 44 };

export function accuracyCurve(o: AccuracyCurveOptions): SafeHtml {
  const points = o.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!o.logX || p.x > 0)).sort((a, b) => a.x - b.x);
  const levels = (o.levels ?? []).filter((l) => Number.isFinite(l.y));
  if (points.length === 0) return html`<p class="note">No points to draw.</p>`;
  const fx = (x: number) => (o.logX ? Math.log2(x) : x);
  const xs = points.map((p) => fx(p.x));
  let x0 = Math.min(...xs);
  let x1 = Math.max(...xs);
  if (x0 === x1) {
    x0 -= 1;
    x1 += 1;
  }
  const ys = [...points.flatMap((p) => [p.y - (p.se || 0), p.y + (p.se || 0)]), ...levels.flatMap((l) => [l.y - (l.se ?? 0), l.y + (l.se ?? 0)])];
  const yTicks = niceTicks(Math.max(0, Math.min(...ys)), Math.min(1, Math.max(...ys)), 5);
  const y0 = Math.min(yTicks[0] ?? 0, ...ys);
  const y1 = Math.max(yTicks[yTicks.length - 1] ?? 1, ...ys);
  const px = (x: number) => M.left + ((fx(x) - x0) / (x1 - x0)) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - ((y - y0) / (y1 - y0 || 1)) * (H - M.top - M.bottom);
  const right = W - M.right;
  const bottom = H - M.bottom;
  const xTicks = o.logX
    ? Array.from({ length: Math.floor(x1) - Math.ceil(x0) + 1 }, (_, i) => 2 ** (Math.ceil(x0) + i))
    : niceTicks(x0, x1, 6).filter((t) => t >= x0 && t <= x1);
  const grid = html`${yTicks.map((t) => html`<line class="grid" x1="${M.left}" x2="${right}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}"/><text class="tick" x="${M.left - 6}" y="${py(t).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${formatTick(100 * t)}%</text>`)}${xTicks.map((t) => html`<line class="grid" x1="${px(t).toFixed(1)}" x2="${px(t).toFixed(1)}" y1="${M.top}" y2="${bottom}"/><text class="tick" x="${px(t).toFixed(1)}" y="${bottom + 16}" text-anchor="middle">${formatTick(t)}</text>`)}`;
  const levelColour = (i: number) => (i === 0 ? '#888888' : colourFor(i + 1));
  const levelMarks = levels.map((l, i) => {
    const c = levelColour(i);
    const band = l.se ? html`<rect x="${M.left}" width="${right - M.left}" y="${py(l.y + l.se).toFixed(1)}" height="${Math.max(0.5, py(l.y - l.se) - py(l.y + l.se)).toFixed(1)}" fill="${c}" fill-opacity="0.12"/>` : html``;
    return html`${band}<line class="level" x1="${M.left}" x2="${right}" y1="${py(l.y).toFixed(1)}" y2="${py(l.y).toFixed(1)}" stroke="${c}" stroke-dasharray="6 4"><title>${l.name}: ${formatNumber(100 * l.y, 3)}%</title></line>`;
  });
  const colour = colourFor(0);
  const upper = points.map((p) => `${px(p.x).toFixed(1)},${py(p.y + (p.se || 0)).toFixed(1)}`);
  const lower = points.map((p) => `${px(p.x).toFixed(1)},${py(p.y - (p.se || 0)).toFixed(1)}`).reverse();
  const band = points.length > 1 ? html`<polygon class="se-band" points="${[...upper, ...lower].join(' ')}" fill="${colour}" fill-opacity="0.2"/>` : html``;
  const line = html`<path class="series" d="${points.map((p, i) => `${i ? 'L' : 'M'}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join('')}" stroke="${colour}" fill="none"/>`;
  const dots = points.map(
    (p) =>
      html`<line x1="${px(p.x).toFixed(1)}" x2="${px(p.x).toFixed(1)}" y1="${py(p.y - (p.se || 0)).toFixed(1)}" y2="${py(p.y + (p.se || 0)).toFixed(1)}" stroke="${colour}"/><circle class="series-point" cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${colour}"><title>${p.label ?? formatTick(p.x)}: ${(100 * p.y).toFixed(1)}% ± ${(100 * (p.se || 0)).toFixed(1)}</title></circle>`,
  );
  const legendItems = [{ name: 'accuracy ± 1 SE', colour, dashed: false }, ...levels.map((l, i) => ({ name: l.name, colour: levelColour(i), dashed: true }))];
  let lx = M.left;
  const legend = legendItems.map((item) => {
    const markup = html`<line x1="${lx}" x2="${lx + 16}" y1="36" y2="36" stroke="${item.colour}" stroke-width="2" ${item.dashed ? html`stroke-dasharray="4 3"` : html``}/><text class="legend-text" x="${lx + 20}" y="36" dominant-baseline="middle">${item.name}</text>`;
    lx += 30 + 6.2 * item.name.length;
    return markup;
  });
  return html`<svg class="plot accuracy-curve" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${o.title}" xmlns="http://www.w3.org/2000/svg">
<text class="plot-title" x="${M.left}" y="18">${o.title}</text>${grid}<rect class="frame" x="${M.left}" y="${M.top}" width="${right - M.left}" height="${bottom - M.top}" fill="none" stroke="#999"/>
${levelMarks}${band}${line}${dots}${legend}
<text class="axis-label" x="${(M.left + right) / 2}" y="${H - 6}" text-anchor="middle">${o.xLabel}${o.logX ? ' (log scale)' : ''}</text>
<text class="axis-label" transform="translate(14 ${(M.top + bottom) / 2}) rotate(-90)" text-anchor="middle">accuracy</text></svg>`;
}
