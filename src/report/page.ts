// The page around the sections: one HTML file with its CSS and its one small script inline, and a content
// security policy that allows no network at all and runs only our own script (by nonce). The policy is the
// second line of defence; the first is that every data string is escaped (see html.ts).
import { html, raw, type SafeHtml } from './html.js';
import type { Section } from './section.js';

const STYLE = `
:root { --fg: #1d2330; --muted: #5b6475; --line: #d9dde5; --bg: #f6f7f9; --card: #fff; --accent: #4e79a7; --good: #2e8b57; --bad: #c0392b; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 18px 28px 8px; background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 4px; font-size: 22px; }
header .meta { color: var(--muted); font-size: 13px; }
nav { background: var(--card); border-bottom: 1px solid var(--line); padding: 6px 28px; display: flex; flex-wrap: wrap; gap: 4px 14px; }
nav a { color: var(--accent); text-decoration: none; font-size: 13px; }
nav a.missing, nav a.invalid { color: var(--muted); }
nav a.invalid::after { content: " ⚠"; color: var(--bad); }
main { padding: 12px 28px 40px; max-width: 1400px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 12px 18px 16px; margin: 14px 0; }
section h2 { margin: 0 0 10px; font-size: 18px; }
section h3 { margin: 16px 0 6px; font-size: 15px; }
section h4 { margin: 10px 0 4px; font-size: 13px; color: var(--muted); font-weight: 600; }
.not-available { color: var(--muted); font-style: italic; margin: 4px 0; }
.invalid { color: var(--bad); margin: 4px 0; word-break: break-word; }
.note { color: var(--muted); font-size: 12.5px; }
.published .source, table.published-figures .source { display: block; color: var(--muted); font-size: 11.5px; max-width: 260px; white-space: normal; }
.no-published { cursor: help; } ol.published-notes { margin: 2px 0 8px; padding-left: 22px; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 13px; display: block; max-width: 100%; overflow-x: auto; width: max-content; }
table.confusion .zero { color: #b8bcc6; } table.confusion strong.correct { color: #1a7f37; } table.confusion .wrong { color: var(--bad); font-weight: 600; }
header .meta { word-break: break-all; }
img, video { max-width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #eef1f5; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.rejects td:first-child { font-family: ui-monospace, monospace; word-break: break-all; }
table.keyvalue thead { display: none; }
table.keyvalue td:first-child { color: var(--muted); }
pre.config { background: #f3f4f7; border: 1px solid var(--line); padding: 10px; max-height: 420px; overflow: auto; font-size: 12px; }
.plots { display: flex; flex-wrap: wrap; gap: 12px; }
figure.chart { margin: 6px 0 10px; }
figure.chart figcaption, figure.figure figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; max-width: 900px; }
.table-scroll { max-width: 100%; overflow-x: auto; }
ul.conclusions li { margin: 4px 0; }
figure.figure { margin: 6px 0 10px; }
figure.overlay-video video { width: 256px; image-rendering: pixelated; background: #000; }
.class-name { font-weight: 600; font-size: 12.5px; }
svg.plot { background: #fff; border: 1px solid var(--line); border-radius: 4px; max-width: 100%; height: auto; }
svg .grid { stroke: #eceff3; }
svg .frame { fill: none; stroke: #b8bfcc; }
svg .tick, svg .legend-text, svg .bar-value { font-size: 10.5px; fill: #4a5262; }
svg .axis-label { font-size: 11.5px; fill: #4a5262; }
svg .plot-title { font-size: 13px; font-weight: 600; fill: var(--fg); }
svg path.series { stroke-width: 1.6; stroke-linejoin: round; }
svg .marker { stroke: #c7ccd6; stroke-dasharray: 3 3; }
svg .stage { stroke: #6b7385; stroke-width: 1.2; }
svg .stage-label, svg .reference-label { font-size: 10.5px; fill: #3b4252; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
svg .reference { stroke: #9a3b3b; stroke-dasharray: 5 3; stroke-width: 1.2; }
figure.curves:not(.log) svg.view-log, figure.curves.log svg.view-linear { display: none; }
figure.curves:not(.smooth) path.smoothed { display: none; }
figure.curves.smooth path.series { stroke-opacity: 0.25; }
svg path.smoothed { stroke-width: 1.8; }
svg circle.hover { fill-opacity: 0; }
svg circle.hover:hover { fill-opacity: 1; }
.curve-controls { display: flex; gap: 14px; font-size: 12.5px; margin: 2px 0 4px; }
svg .error-bar { stroke: #2b2f38; stroke-width: 1.1; fill: none; }
svg circle.point { stroke: #fff; stroke-width: 0.6; opacity: 0.9; }
svg circle.point.hidden { display: none; }
.thumb-row { display: flex; flex-wrap: wrap; gap: 10px; }
figure.thumb { margin: 0; width: 150px; border: 2px solid var(--line); border-radius: 4px; background: #fafbfc; }
figure.thumb img { display: block; width: 100%; height: auto; image-rendering: auto; }
.frame-with-box { position: relative; line-height: 0; }
svg.gt-box { position: absolute; left: 0; top: 0; width: 100%; height: 100%; pointer-events: none; }
svg.gt-box rect, svg.box-key rect { fill: none; vector-effect: non-scaling-stroke; }
.gt-box-outline { stroke: #111; stroke-width: 3; } .gt-box-line { stroke: #fff; stroke-width: 1.5; stroke-dasharray: 4 3; }
svg.box-key { vertical-align: -1px; }
figure.thumb figcaption { padding: 3px 5px; font-size: 11.5px; }
figure.thumb .file, .retrieval-example .file { display: block; word-break: break-all; font-family: ui-monospace, monospace; font-size: 11px; }
.positives figure.thumb, figure.thumb.hit { border-color: var(--good); }
.rejected figure.thumb, figure.thumb.miss { border-color: var(--bad); }
.sims { color: var(--muted); }
.cma-example { border-top: 1px solid var(--line); margin-top: 10px; }
.media-missing { width: 100%; min-height: 60px; padding: 6px; font-size: 11px; color: var(--bad); background: #fdf2f1; word-break: break-all; }
.retrieval-example { display: flex; flex-wrap: wrap; gap: 16px; border-top: 1px solid var(--line); padding: 10px 0; }
.retrieval-example video { width: 280px; max-height: 210px; background: #000; }
.retrieval-example .query { width: 280px; }
ol.matches { margin: 0; padding-left: 22px; }
ol.matches li { margin: 4px 0; }
ol.matches audio { height: 30px; vertical-align: middle; width: 240px; }
ol.matches .file { display: inline; margin: 0 6px; }
li.correct .mark { color: var(--good); font-weight: 700; }
li.wrong .mark { color: var(--bad); font-weight: 700; }
.embedding { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
ul.legend-list { list-style: none; margin: 0; padding: 0; columns: 2; max-width: min(460px, 100%); }
@media (max-width: 600px) { ul.legend-list { columns: 1; } main { padding: 8px 10px 30px; } header, nav { padding-left: 12px; padding-right: 12px; } section { padding: 10px 10px 12px; } }
button.legend-entry { border: 0; background: none; cursor: pointer; font: inherit; padding: 2px 4px; text-align: left; }
button.legend-entry[aria-pressed="false"] { opacity: 0.35; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 50%; margin-right: 6px; vertical-align: -1px; }
.legend-list .count { color: var(--muted); }
.tag { display: inline-block; background: #eef1f5; border-radius: 3px; padding: 1px 6px; margin: 2px; font-size: 12px; }
details.problems { color: var(--bad); font-size: 12.5px; }
table.overview td:nth-child(2) { font-weight: 700; text-align: right; }
`;

// Legend entries hide and show their class's points; curve switches (log scale, smoothing) set a class on
// their figure. Reads only attributes that we wrote.
const SCRIPT = `
document.querySelectorAll('figure.curves input[data-toggle]').forEach(function (input) {
  input.addEventListener('change', function () {
    input.closest('figure').classList.toggle(input.getAttribute('data-toggle'), input.checked);
  });
});
document.querySelectorAll('button.legend-entry').forEach(function (button) {
  button.addEventListener('click', function () {
    var shown = button.getAttribute('aria-pressed') !== 'true';
    button.setAttribute('aria-pressed', String(shown));
    var group = button.getAttribute('data-group');
    var section = button.closest('section');
    section.querySelectorAll('circle.point[data-group="' + group + '"]').forEach(function (point) {
      point.classList.toggle('hidden', !shown);
    });
  });
});
`;

export interface PageOptions {
  title: string;
  subtitle: string;
  sections: Section[];
  /** Nonce that lets our inline script (and only it) run under the content security policy. */
  nonce: string;
}

export function renderPage(options: PageOptions): string {
  // Built from constants and a base64 nonce only, so it needs no escaping (its quotes must stay quotes).
  const csp = `default-src 'none'; img-src 'self' file: data:; media-src 'self' file: data:; style-src 'unsafe-inline'; script-src 'nonce-${options.nonce}'; base-uri 'none'; form-action 'none'`;
  const nav = options.sections.map((s) => html`<a href="#${s.id}" class="${s.status}">${s.title}</a>`);
  const sections = options.sections.map(
    (s) => html`<section id="${s.id}" data-status="${s.status}">
<h2>${s.title}</h2>
${s.body}
</section>`,
  );
  const page: SafeHtml = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${raw(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${options.title}</title>
<link rel="icon" href="data:,">
<style>${raw(STYLE)}</style>
</head>
<body>
<header><h1>${options.title}</h1><div class="meta">${options.subtitle}</div></header>
<nav>${nav}</nav>
<main>
${sections}
</main>
<script nonce="${options.nonce}">${raw(SCRIPT)}</script>
</body>
</html>
`;
  return page.value;
}
