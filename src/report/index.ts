// The report: `buildReport(runDir)` writes <run dir>/report.html; run-files.ts defines what a run directory holds.
export { buildReport, renderReport, writeReport, type RenderedReport, type ReportOptions } from './build-report.js';
export { renderComparison, writeComparison, runNames, type CompareOptions, type RenderedComparison } from './compare.js';
export { compareScores, proportionStandardError, type ScoreComparison } from './standard-error.js';
export { formatHighlights, type Highlight } from './sections/overview.js';
export * from './run-files.js';
export { tsne, tsneDivergence, TSNE_MAX_POINTS, type TsneOptions } from './tsne.js';
export { escapeHtml } from './html.js';
export { exportRunToTensorBoard, type TensorBoardExport } from './tensorboard-export.js';
export { encodePng } from './png.js';
export { heatmapOverlayPng, renderHeatmapOverlay, heatColour, type Box, type HeatmapOverlay } from './heatmap.js';
export { extractThumbnail, linkIntoRun, runPath, type ThumbnailOptions } from './media-files.js';
