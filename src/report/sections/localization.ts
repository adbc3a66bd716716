// Sound localisation: how often the heatmap's peak falls on the sounding object (trained vs random init),
// and the heatmaps over frames, each marked hit or miss.
import { formatPercent, html, isFractionScale } from '../html.js';
import type { RunInputs } from '../load-run.js';
import { imageElement, table, unavailableSection, type Section, type SectionContext } from '../section.js';

const MAX_FRAMES = 48;

export function localizationSection(run: RunInputs, context: SectionContext): Section {
  const id = 'localization';
  const title = 'Sound localisation heatmaps';
  const unavailable = unavailableSection(id, title, run.localization);
  if (unavailable || run.localization.status !== 'ok') return unavailable!;
  const { score, frames } = run.localization.value;
  const fraction = isFractionScale([score.trained, score.random]);
  const hits = frames.filter((f) => f.boxHit).length;
  const scores = table(['model', 'peak inside the sounding object'], [
    ['trained', formatPercent(score.trained, fraction)],
    ['random init', formatPercent(score.random, fraction)],
  ]);
  const grid = frames.slice(0, MAX_FRAMES).map(
    (frame) => html`<figure class="thumb ${frame.boxHit ? 'hit' : 'miss'}">${imageElement(context.media, frame.image, frame.caption ?? frame.image)}<figcaption><span class="mark">${frame.boxHit ? '✓ hit' : '✗ miss'}</span>${frame.caption ? html` <span class="file">${frame.caption}</span>` : ''}</figcaption></figure>`,
  );
  const more = frames.length > MAX_FRAMES ? html`<p class="note">${frames.length - MAX_FRAMES} more frames are not shown.</p>` : '';
  return {
    id,
    title,
    status: 'ok',
    body: html`${scores}<p>${frames.length ? `${hits} of ${frames.length} frames shown below are hits.` : 'No frames in results/localization.json.'}</p><div class="thumb-row">${grid}</div>${more}`,
  };
}
