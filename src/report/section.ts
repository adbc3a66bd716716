// What every report section is made of, and the pieces sections share: the "not available" and "could not
// read" notes, tables, and media elements that say why a file cannot be shown instead of showing a broken one.
import { html, type SafeHtml } from './html.js';
import type { Loaded } from './load-run.js';
import type { MediaResolver } from './media.js';

export type SectionStatus = 'ok' | 'missing' | 'invalid';

export interface Section {
  /** The anchor and the test hook: `<section id="…" data-status="…">`. */
  id: string;
  title: string;
  status: SectionStatus;
  body: SafeHtml;
}

export interface SectionContext {
  runDir: string;
  media: MediaResolver;
  /** Seed for anything random the report does (the t-SNE layout, the sample of clips it maps). */
  seed: number;
  embeddingMaxPoints: number;
  tsneIterations: number;
}

/** The command that writes each run file, so that a missing section says how to fill it. */
export const FILLED_BY: Record<string, string> = {
  'config.json': 'avid pretrain',
  'metrics.jsonl': 'avid pretrain',
  'data.json': 'avid pretrain',
  'versions.json': 'avid pretrain',
  'results/probe.json': 'avid eval-av --checkpoint <run dir> --labels <labels.csv>',
  'results/retrieval.json': 'avid eval-av --checkpoint <run dir> --labels <labels.csv>',
  'results/svm.json': 'avid eval svm --checkpoint <run dir> --data <sounds>',
  'results/cma.json': 'avid demo (CMA positives with thumbnails)',
  'results/embedding.json': 'avid demo',
  'results/embeddings.json': 'avid demo',
  'results/localization.json': 'avid localize --checkpoint <run dir> <videos with ground truth>',
  'results/summary.json': 'avid demo',
  'results/by-epoch.json': 'avid ablate-epochs <run dir> --protocol svm --data <sounds>',
};

export function notAvailable(files: string[]): SafeHtml {
  const names = files.map((f, i) => html`${i ? ' or ' : ''}<code>${f}</code>`);
  const commands = [...new Set(files.map((f) => FILLED_BY[f]).filter((c): c is string => c !== undefined))];
  const fill = commands.map((c, i) => html`${i ? ' or ' : ''}<code>${c}</code>`);
  return html`<p class="not-available">Not available for this run (no ${names}${commands.length ? html`; written by ${fill}` : ''}).</p>`;
}

export function couldNotRead(error: string): SafeHtml {
  return html`<p class="invalid">Could not read this section's input: ${error}</p>`;
}

/** The section for a missing or invalid input, or null when the input loaded. */
export function unavailableSection<T>(id: string, title: string, loaded: Loaded<T>): Section | null {
  if (loaded.status === 'missing') return { id, title, status: 'missing', body: notAvailable([loaded.file]) };
  if (loaded.status === 'invalid') return { id, title, status: 'invalid', body: couldNotRead(loaded.error) };
  return null;
}

export type Cell = string | number | SafeHtml | null | undefined;

export function table(columns: Cell[], rows: Cell[][], className = ''): SafeHtml {
  const renderCell = (cell: Cell, tag: 'td' | 'th') => {
    const numeric = typeof cell === 'number';
    return tag === 'th' ? html`<th>${cell}</th>` : html`<td class="${numeric ? 'num' : ''}">${cell ?? '—'}</td>`;
  };
  return html`<table class="${className}"><thead><tr>${columns.map((c) => renderCell(c, 'th'))}</tr></thead><tbody>${rows.map(
    (row) => html`<tr>${row.map((c) => renderCell(c, 'td'))}</tr>`,
  )}</tbody></table>`;
}

function mediaProblem(relPath: string, reason: string): SafeHtml {
  return html`<div class="media-missing" title="${relPath}">${relPath}<br><small>${reason}</small></div>`;
}

export function imageElement(media: MediaResolver, relPath: string, alt: string): SafeHtml {
  const source = media.resolve(relPath);
  if (!source.ok) return mediaProblem(relPath, source.reason);
  if (source.kind !== 'image') return mediaProblem(relPath, 'not an image the report can show (PNG, JPEG, GIF, WebP)');
  return html`<img src="${source.url}" alt="${alt}" title="${relPath}">`;
}

/** A <video> or <audio> player, or a link when browsers cannot play the container (AVI, MKV). */
export function playerElement(media: MediaResolver, relPath: string, as: 'video' | 'audio', posterPath?: string): SafeHtml {
  const source = media.resolve(relPath);
  if (!source.ok) return mediaProblem(relPath, source.reason);
  if (source.kind === 'image') return html`<img src="${source.url}" alt="${relPath}" title="${relPath}">`;
  if (!source.playable)
    return html`<div class="media-missing"><a href="${source.url}">${relPath}</a><br><small>browsers cannot play this format</small></div>`;
  if (as === 'video' && source.kind === 'video')
  {
    // A poster shows the clip before it plays (a bare player is a black box); one that cannot be shown is left out.
    const poster = posterPath ? media.resolve(posterPath) : null;
    const posterUrl = poster && poster.ok && poster.kind === 'image' ? poster.url : null;
    return posterUrl
      ? html`<video controls preload="metadata" src="${source.url}" poster="${posterUrl}" title="${relPath}"></video>`
      : html`<video controls preload="metadata" src="${source.url}" title="${relPath}"></video>`;
  }
  return html`<audio controls preload="metadata" src="${source.url}" title="${relPath}"></audio>`;
}
