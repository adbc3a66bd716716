// Where the run came from: the resolved config, the data it saw (including every rejected file and why), and
// the versions of the software that produced it.
import { html } from '../html.js';
import type { RunInputs } from '../load-run.js';
import { table, unavailableSection, type Section } from '../section.js';

const MAX_REJECTS = 500;

export function configSection(run: RunInputs): Section {
  const id = 'config';
  const title = 'Config';
  const unavailable = unavailableSection(id, title, run.config);
  if (unavailable || run.config.status !== 'ok') return unavailable!;
  return { id, title, status: 'ok', body: html`<pre class="config">${JSON.stringify(run.config.value, null, 2)}</pre>` };
}

export function dataSection(run: RunInputs): Section {
  const id = 'data';
  const title = 'Data';
  const unavailable = unavailableSection(id, title, run.data);
  if (unavailable || run.data.status !== 'ok') return unavailable!;
  const { manifest, entries, rejects, classes, ...extra } = run.data.value;
  const facts: Array<[string, string | number]> = [
    ['manifest', manifest],
    ['entries used', entries],
    ['rejected files', rejects.length],
    ...(classes ? ([['classes', classes.length]] as Array<[string, number]>) : []),
    ...Object.entries(extra).map(([key, value]) => [key, value === null ? '—' : String(value)] as [string, string]),
  ];
  const rejectTable = rejects.length
    ? html`<h3>Rejected files</h3>${table(['file', 'reason'], rejects.slice(0, MAX_REJECTS).map((r) => [r.path, r.reason]), 'rejects')}${
        rejects.length > MAX_REJECTS ? html`<p class="note">${rejects.length - MAX_REJECTS} more rejected files are listed in data.json.</p>` : ''
      }`
    : html`<p>No file was rejected.</p>`;
  const classList = classes?.length ? html`<h3>Classes</h3><p class="classes">${classes.map((c) => html`<span class="tag">${c}</span>`)}</p>` : '';
  return { id, title, status: 'ok', body: html`${table(['', ''], facts, 'facts keyvalue')}${classList}${rejectTable}` };
}

export function versionsSection(run: RunInputs): Section {
  const id = 'versions';
  const title = 'Versions';
  const unavailable = unavailableSection(id, title, run.versions);
  if (unavailable || run.versions.status !== 'ok') return unavailable!;
  return { id, title, status: 'ok', body: table(['component', 'version'], Object.entries(run.versions.value), 'keyvalue') };
}
