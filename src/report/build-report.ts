// `buildReport(runDir)`: reads the run directory, renders every section (or its "not available" note), and
// writes <run dir>/report.html in one piece.
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadRun, presentRunFiles } from './load-run.js';
import { MediaResolver } from './media.js';
import { renderPage } from './page.js';
import { writeFileAtomic } from '../io/atomic.js';
import { RUN_FILES } from './run-files.js';
import type { Section, SectionContext } from './section.js';
import { cmaSection } from './sections/cma.js';
import { embeddingSection } from './sections/embedding.js';
import { localizationSection } from './sections/localization.js';
import { overviewSection, runHighlights, type Highlight } from './sections/overview.js';
import { probeSection } from './sections/probe.js';
import { resultTablesSection } from './sections/result-tables.js';
import { retrievalSection } from './sections/retrieval.js';
import { configSection, dataSection, versionsSection } from './sections/run-info.js';
import { trainingSection } from './sections/training.js';
import { byEpochSection } from './sections/by-epoch.js';
import { TSNE_MAX_POINTS } from './tsne.js';

export interface ReportOptions {
  /** Media files up to this size are embedded in the page as data: URIs; larger ones are linked (default 512 KiB). */
  embedLimitBytes?: number;
  /** Once this much media is embedded, the rest is linked (default 24 MiB). */
  embedTotalBytes?: number;
  /** Seed of the t-SNE layout (default 0): the same run gives the same map. */
  seed?: number;
  /** Raw embeddings beyond this many clips are sampled (with the seed) before t-SNE; at most 2000 (default). */
  embeddingMaxPoints?: number;
  /** t-SNE iterations (default 1000). */
  tsneIterations?: number;
  /** Shown in the header; defaults to the run directory's name. */
  title?: string;
}

export interface RenderedReport {
  html: string;
  sections: Array<{ id: string; title: string; status: Section['status'] }>;
  /** The headline numbers (the "At a glance" table), for printing. */
  highlights: Highlight[];
}

/** Throws, naming the path, when `runDir` is not a run directory. */
export function checkRunDir(runDir: string): void {
  if (!existsSync(runDir)) throw new Error(`run directory not found: ${runDir}`);
  if (!statSync(runDir).isDirectory()) throw new Error(`not a directory: ${runDir}`);
  if (presentRunFiles(runDir).length === 0) {
    const expected = Object.values(RUN_FILES).filter((f) => f !== RUN_FILES.report).join(', ');
    throw new Error(`${runDir} does not look like a run directory: none of ${expected} is there`);
  }
}

/** Renders the report of `runDir` to a string (nothing is written). */
export function renderReport(runDir: string, options: ReportOptions = {}): RenderedReport {
  const dir = path.resolve(runDir);
  checkRunDir(dir);
  const run = loadRun(dir);
  const context: SectionContext = {
    runDir: dir,
    media: new MediaResolver(dir, { embedLimitBytes: options.embedLimitBytes ?? 512 * 1024, embedTotalBytes: options.embedTotalBytes }),
    seed: options.seed ?? 0,
    embeddingMaxPoints: Math.min(options.embeddingMaxPoints ?? TSNE_MAX_POINTS, TSNE_MAX_POINTS),
    tsneIterations: options.tsneIterations ?? 1000,
  };
  const sections: Section[] = [
    overviewSection(run),
    trainingSection(run),
    probeSection(run),
    byEpochSection(run),
    cmaSection(run, context),
    retrievalSection(run, context),
    embeddingSection(run, context),
    localizationSection(run, context),
    resultTablesSection(run),
    dataSection(run),
    configSection(run),
    versionsSection(run),
  ];
  const name = path.basename(dir);
  const html = renderPage({
    title: options.title ?? `avid run: ${name}`,
    subtitle: `${dir} · report generated ${new Date().toISOString().replace('T', ' ').slice(0, 19)} UTC`,
    sections,
    nonce: randomBytes(16).toString('base64'),
  });
  return { html, sections: sections.map(({ id, title, status }) => ({ id, title, status })), highlights: runHighlights(run) };
}

/** Builds `<runDir>/report.html` and returns its path. */
export async function buildReport(runDir: string, options: ReportOptions = {}): Promise<string> {
  return (await writeReport(runDir, options)).path;
}

/** Builds `<runDir>/report.html`; returns its path, each section's status and the headline numbers. */
export async function writeReport(runDir: string, options: ReportOptions = {}): Promise<Omit<RenderedReport, 'html'> & { path: string }> {
  const { html, sections, highlights } = renderReport(runDir, options);
  const output = path.join(path.resolve(runDir), RUN_FILES.report);
  writeFileAtomic(output, html);
  return { path: output, sections, highlights };
}
