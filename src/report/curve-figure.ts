// A training-curve figure with the controls TensorBoard users expect: a log-scale switch and smoothing.
// Both views are drawn ahead (the page has no plotting code); the page's script only toggles classes on the
// figure, and CSS shows the matching view: .log shows the log-scale plot, .smooth the smoothed paths.
import { html, type SafeHtml } from './html.js';
import { linePlot, type LinePlotOptions } from './svg-plot.js';

/** TensorBoard's default smoothing weight. */
export const SMOOTHING = 0.6;

export function curveFigure(options: LinePlotOptions, caption: string): SafeHtml {
  const positive = options.series.every((s) => s.points.every(([, y]) => !Number.isFinite(y) || y > 0));
  const linear = linePlot({ ...options, smoothing: SMOOTHING, className: 'view-linear' });
  // A log axis needs positive values; losses that go negative (an NCE estimate can) keep the linear view only.
  const log = positive ? linePlot({ ...options, smoothing: SMOOTHING, logY: true, className: 'view-log' }) : '';
  const controls = html`<div class="curve-controls">${
    positive ? html`<label><input type="checkbox" data-toggle="log"> log scale</label>` : ''
  }<label><input type="checkbox" data-toggle="smooth"> smoothing (EMA ${SMOOTHING})</label></div>`;
  return html`<figure class="chart curves">${controls}${linear}${log}<figcaption>${caption} Hover a line for its values.</figcaption></figure>`;
}
