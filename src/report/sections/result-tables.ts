// Results given as tables (SVM on audio features, the run summary, and any other results/*.json in the table
// format), one block per file. Other result files in another format are listed by name, not shown.
import { formatNumber, html } from '../html.js';
import type { Loaded, RunInputs } from '../load-run.js';
import type { ResultTable } from '../run-files.js';
import { couldNotRead, notAvailable, table, type Section } from '../section.js';

function tablesBlock(file: string, tables: ResultTable[]) {
  const rendered = tables.map(
    (t) => html`<h4>${t.title}</h4>${table(t.columns, t.rows.map((row) => row.map((cell) => (typeof cell === 'number' ? formatNumber(cell, 4) : cell))))}`,
  );
  return html`<h3>${file}</h3>${rendered.length ? rendered : html`<p class="note">No tables.</p>`}`;
}

export function resultTablesSection(run: RunInputs): Section {
  const id = 'tables';
  const title = 'Other results';
  const known = run.tables.filter((t) => t.status !== 'missing');
  const others = run.otherResults.filter((t): t is Extract<Loaded<ResultTable[]>, { status: 'ok' }> => t.status === 'ok');
  const unreadable = run.otherResults.filter((t): t is Extract<Loaded<ResultTable[]>, { status: 'invalid' }> => t.status === 'invalid');
  if (known.length === 0 && others.length === 0) {
    const listed = unreadable.length
      ? html`<p class="note">Not in the table format, so not shown: ${unreadable.map((u, i) => html`${i ? ', ' : ''}<code title="${u.error}">${u.file}</code>`)}.</p>`
      : '';
    return { id, title, status: 'missing', body: html`${notAvailable(run.tables.map((t) => t.file))}${listed}` };
  }
  const blocks = [...known, ...others].map((loaded) => {
    if (loaded.status === 'invalid') return html`<h3>${loaded.file}</h3>${couldNotRead(loaded.error)}`;
    return loaded.status === 'ok' ? tablesBlock(loaded.file, loaded.value) : html``;
  });
  const listed = unreadable.length
    ? html`<p class="note">Not in the table format, so not shown: ${unreadable.map((u, i) => html`${i ? ', ' : ''}<code title="${u.error}">${u.file}</code>`)}.</p>`
    : '';
  const status = known.length > 0 && others.length === 0 && known.every((t) => t.status === 'invalid') ? 'invalid' : 'ok';
  return { id, title, status, body: html`${blocks}${listed}` };
}
