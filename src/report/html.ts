// HTML built from templates where every interpolated value is escaped unless it is already `SafeHtml`.
// Escaping is the default so that a file name, a label or a config value can never become markup: a file
// called `<script>alert(1)</script>.mp4` renders as those characters, not as a script.

/** A string that is known to be markup we produced (not data). Only `html`, `raw` and the plot code make one. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for use in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** Marks trusted markup (constant strings written in this code base) as safe. Never pass data to it. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

function renderValue(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(renderValue).join('');
  return escapeHtml(String(value));
}

/** Tagged template: `html\`<td>${name}</td>\`` escapes `name`; nested `html` results and arrays of them pass through. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += renderValue(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** Joins fragments (escaping any plain strings among them). */
export function joinHtml(parts: unknown[], separator = ''): SafeHtml {
  return new SafeHtml(parts.map(renderValue).join(separator));
}

/** A number for display: integers as is, others with `digits` significant decimals, non-finite as a dash. */
export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6)) return value.toExponential(Math.max(1, digits - 1));
  return value.toFixed(digits).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

/**
 * Scores written as fractions (0.83) or as percentages (83): decided once per table from all its values, so
 * that one small percentage (0.8%) is not mistaken for a fraction.
 */
export function isFractionScale(values: number[]): boolean {
  return values.filter(Number.isFinite).every((v) => Math.abs(v) <= 1);
}

/** A score as a percentage, given whether the scores of its table are fractions. */
export function formatPercent(value: number | null | undefined, fraction: boolean, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return `${(fraction ? value * 100 : value).toFixed(digits)}%`;
}
