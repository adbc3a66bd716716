// Sound localisation: how often the heatmap's peak falls on the sounding object (trained vs random init),
// and the heatmaps over frames, each marked hit or miss.
import { formatPercent, html, isFractionScale, type SafeHtml } from '../html.js';
import type { RunInputs } from '../load-run.js';
import { imageElement, playerElement, table, unavailableSection, type Section, type SectionContext } from '../section.js';
import { heatColour } from '../heatmap.js';

/** The colour at heat t in [0, 1] of each colour map the frames may use (see LocalizationResults.colormap). */
const COLOUR_MAPS: Record<'jet' | 'ramp', (t: number) => [number, number, number]> = {
  // eval/gradcam.ts overlayHeatmap: channel c = clamp(1.5 − |4t − centre|), centres 3, 2, 1 for R, G, B.
  jet: (t) => [3, 2, 1].map((c) => Math.round(255 * Math.max(0, Math.min(1, 1.5 - Math.abs(4 * t - c))))) as [number, number, number],
  ramp: (t) => heatColour(t).map(Math.round) as [number, number, number],
};

/** A horizontal colour bar from low to high heat, labelled. */
function colourBar(map: 'jet' | 'ramp'): SafeHtml {
  const stops = Array.from({ length: 11 }, (_, i) => {
    const [r, g, b] = COLOUR_MAPS[map](i / 10);
    return html`<stop offset="${i * 10}%" stop-color="rgb(${r},${g},${b})"/>`;
  });
  return html`<figure class="figure colour-bar"><svg class="colour-bar" viewBox="0 0 260 34" width="260" height="34" role="img" aria-label="colour bar: Grad-CAM score from low to high" xmlns="http://www.w3.org/2000/svg"><defs><linearGradient id="heat-${map}">${stops}</linearGradient></defs><rect x="30" y="4" width="200" height="12" fill="url(#heat-${map})" stroke="#b8bfcc"/><text class="tick" x="30" y="29" text-anchor="middle">low</text><text class="tick" x="230" y="29" text-anchor="middle">high</text></svg><figcaption>Heat colours: the Grad-CAM score of the audio-visual match, normalised per clip${map === 'jet' ? ', blended half over the frame' : ''}.</figcaption></figure>`;
}

const MAX_FRAMES = 48;

/**
 * The ground-truth box drawn over a frame: an SVG in frame fractions stretched over the image, so it lands on
 * the object at any displayed size. A dark outline under a white dashed line keeps it visible on every heat colour.
 */
function boxOverlay([x, y, w, h]: [number, number, number, number]): SafeHtml {
  const rect = (cls: string) => html`<rect class="${cls}" x="${(100 * x).toFixed(2)}" y="${(100 * y).toFixed(2)}" width="${(100 * w).toFixed(2)}" height="${(100 * h).toFixed(2)}"/>`;
  return html`<svg class="gt-box" viewBox="0 0 100 100" preserveAspectRatio="none" aria-hidden="true" xmlns="http://www.w3.org/2000/svg">${rect('gt-box-outline')}${rect('gt-box-line')}</svg>`;
}

export function localizationSection(run: RunInputs, context: SectionContext): Section {
  const id = 'localization';
  const title = 'Sound localisation heatmaps';
  const unavailable = unavailableSection(id, title, run.localization);
  if (unavailable || run.localization.status !== 'ok') return unavailable!;
  const { score, frames, videos, colormap } = run.localization.value;
  const fraction = isFractionScale([score.trained, score.random]);
  const hits = frames.filter((f) => f.boxHit).length;
  const scores = table(['model', 'peak inside the sounding object'], [
    ['trained', formatPercent(score.trained, fraction)],
    ['random init', formatPercent(score.random, fraction)],
  ]);
  // A frame whose object lies outside the evaluation crop was not scored: it is neither a hit nor a miss.
  const mark = (frame: (typeof frames)[number]) =>
    frame.boxOutsideCrop ? html`<span class="mark">– not scored</span> <span class="file">the sounding object is outside the evaluation crop</span>` : html`<span class="mark">${frame.boxHit ? '✓ hit' : '✗ miss'}</span>`;
  const grid = frames.slice(0, MAX_FRAMES).map(
    (frame) => html`<figure class="thumb ${frame.boxOutsideCrop ? 'unscored' : frame.boxHit ? 'hit' : 'miss'}">${
      frame.box ? html`<div class="frame-with-box">${imageElement(context.media, frame.image, frame.caption ?? frame.image)}${boxOverlay(frame.box)}</div>` : imageElement(context.media, frame.image, frame.caption ?? frame.image)
    }<figcaption>${mark(frame)}${frame.caption ? html` <span class="file">${frame.caption}</span>` : ''}</figcaption></figure>`,
  );
  const unscored = frames.filter((f) => f.boxOutsideCrop).length;
  const more = frames.length > MAX_FRAMES ? html`<p class="note">${frames.length - MAX_FRAMES} more frames are not shown.</p>` : '';
  return {
    id,
    title,
    status: 'ok',
    body: html`${scores}${
      videos?.length
        ? html`<h3>Overlay clips with their sound</h3><div class="thumb-row">${videos.map((v) => html`<figure class="figure overlay-video">${playerElement(context.media, v.video, 'video', v.poster)}<figcaption>${v.caption ?? v.video}</figcaption></figure>`)}</div>`
        : ''
    }${colormap ? colourBar(colormap) : ''}<p>${frames.length ? `${hits} of ${frames.length - unscored} scored frames shown below are hits${unscored ? ` (${unscored} not scored: the sounding object is outside the central crop the network sees)` : ''}.` : 'No frames in results/localization.json.'}${
      frames.some((f) => f.box) ? html` <span class="box-key"><svg class="box-key" viewBox="0 0 20 12" width="20" height="12" aria-hidden="true" xmlns="http://www.w3.org/2000/svg"><rect class="gt-box-outline" x="1" y="1" width="18" height="10"/><rect class="gt-box-line" x="1" y="1" width="18" height="10"/></svg> the sounding object's ground-truth box (a hit: the heat's peak inside it).</span>` : ''
    }</p><div class="thumb-row">${grid}</div>${more}`,
  };
}
