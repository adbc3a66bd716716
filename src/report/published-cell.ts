// How a published figure stands in a table: the value with its source (the paper, setting and pre-training
// in the tooltip), or "—" with the reason as a tooltip and a numbered footnote (each reason once).
import { html, type SafeHtml } from './html.js';
import type { PublishedMatch } from './published-figures.js';

/** Footnotes for the "—" cells of the published column: each distinct reason once, numbered. */
export class Footnotes {
  readonly reasons: string[] = [];
  mark(reason: string): SafeHtml {
    let n = this.reasons.indexOf(reason) + 1;
    if (n === 0) n = this.reasons.push(reason);
    return html`<span class="no-published" title="${reason}">—<sup>${n}</sup></span>`;
  }
  render(): SafeHtml | string {
    return this.reasons.length ? html`<ol class="note published-notes">${this.reasons.map((r) => html`<li>${r}</li>`)}</ol>` : '';
  }
}

/** A published figure with its source (visible, short) and the paper and pre-training (tooltip), or "—" and why. */
export function publishedCell(match: PublishedMatch, notes: Footnotes): SafeHtml {
  if (!match.figure) return notes.mark(match.reason);
  const { figure, setting } = match;
  const title = `${setting.paper}, ${setting.section}; ${setting.method}, pre-trained on ${setting.pretraining}; ${figure.source}`;
  return html`<span class="published" title="${title}">${(100 * figure.value).toFixed(2)}% <small class="source">${figure.source}</small></span>`;
}
