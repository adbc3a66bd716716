// Cross-modal retrieval: recall@K and median rank in both directions (against random initialisation when
// given), and examples to watch and listen to: a video and the sounds the model ranked closest to it.
import { formatNumber, formatPercent, html, isFractionScale } from '../html.js';
import type { RunInputs } from '../load-run.js';
import type { RetrievalResults, RetrievalScores } from '../run-files.js';
import { playerElement, table, unavailableSection, type Section, type SectionContext } from '../section.js';

const MAX_EXAMPLES = 8;

function randomScores(random: RetrievalResults['random']): { v2a?: RetrievalScores; a2v?: RetrievalScores } {
  if (!random) return {};
  return 'v2a' in random ? random : { v2a: random };
}

export function retrievalSection(run: RunInputs, context: SectionContext): Section {
  const id = 'retrieval';
  const title = 'Cross-modal retrieval';
  const unavailable = unavailableSection(id, title, run.retrieval);
  if (unavailable || run.retrieval.status !== 'ok') return unavailable!;
  const results = run.retrieval.value;
  const random = randomScores(results.random);
  const lines: Array<[string, RetrievalScores]> = [
    ['video → audio', results.v2a],
    ['audio → video', results.a2v],
    ...(random.v2a ? ([['video → audio, random init', random.v2a]] as Array<[string, RetrievalScores]>) : []),
    ...(random.a2v ? ([['audio → video, random init', random.a2v]] as Array<[string, RetrievalScores]>) : []),
  ];
  const fraction = isFractionScale(lines.flatMap(([, s]) => [s.r1, s.r5, s.r10]));
  const scores = table(
    ['direction', 'R@1', 'R@5', 'R@10', 'median rank'],
    lines.map(([name, s]) => [name, formatPercent(s.r1, fraction), formatPercent(s.r5, fraction), formatPercent(s.r10, fraction), formatNumber(s.medianRank, 1)]),
  );
  const examples = results.examples.slice(0, MAX_EXAMPLES).map(
    (example) => html`<div class="retrieval-example"><div class="query">${playerElement(context.media, example.video, 'video', example.poster)}${example.label ? html`<div class="class-name">${example.label}</div>` : ''}<div class="file">${example.video}</div></div>
<ol class="matches">${example.matches.map(
      (m) => html`<li class="${m.correct ? 'correct' : 'wrong'}"><span class="mark">${m.correct ? '✓' : '✗'}</span> ${playerElement(context.media, m.file, 'audio')}${m.label ? html`<span class="class-name">${m.label}</span> ` : ''}<span class="file">${m.file}</span> <span class="sims">similarity ${formatNumber(m.similarity, 3)}</span></li>`,
    )}</ol></div>`,
  );
  const more = results.examples.length > MAX_EXAMPLES ? html`<p class="note">${results.examples.length - MAX_EXAMPLES} more examples in results/retrieval.json are not shown.</p>` : '';
  return {
    id,
    title,
    status: 'ok',
    body: html`${scores}<h3>Examples: a video and its closest sounds (✓ same class)</h3>${examples.length ? examples : html`<p class="note">No examples in results/retrieval.json.</p>`}${more}`,
  };
}
