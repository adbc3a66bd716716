// Any other results given as tables (SVM on audio features, the run summary, ...), one block per file.
import { formatNumber, html } from '../html.js';
import type { RunInputs } from '../load-run.js';
import { couldNotRead, notAvailable, table, type Section } from '../section.js';

export function resultTablesSection(run: RunInputs): Section {
  const id = 'tables';
  const title = 'Other results';
  const present = run.tables.filter((t) => t.status !== 'missing');
  if (present.length === 0) return { id, title, status: 'missing', body: notAvailable(run.tables.map((t) => t.file)) };
  const blocks = present.map((loaded) => {
    if (loaded.status === 'invalid') return html`<h3>${loaded.file}</h3>${couldNotRead(loaded.error)}`;
    if (loaded.status !== 'ok') return html``;
    const tables = loaded.value.map(
      (t) => html`<h4>${t.title}</h4>${table(t.columns, t.rows.map((row) => row.map((cell) => (typeof cell === 'number' ? formatNumber(cell, 4) : cell))))}`,
    );
    return html`<h3>${loaded.file}</h3>${tables.length ? tables : html`<p class="note">No tables.</p>`}`;
  });
  const status = present.every((t) => t.status === 'invalid') ? 'invalid' : 'ok';
  return { id, title, status, body: html`${blocks}` };
}
