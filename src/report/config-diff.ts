// Which config keys differ between runs: each config flattened to dotted keys ("train.epochs"), then the keys
// whose values are not the same in every run (a key missing from some runs differs too).

/** Flattens nested objects to dotted keys; arrays and scalars are leaves (arrays compared as JSON). */
export function flattenConfig(value: unknown, prefix = '', out: Map<string, string> = new Map()): Map<string, string> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out.set(prefix, '{}');
    for (const [key, inner] of entries) flattenConfig(inner, prefix ? `${prefix}.${key}` : key, out);
  } else if (prefix) {
    out.set(prefix, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return out;
}

export interface ConfigDifference {
  key: string;
  /** One value per run; null where the run's config lacks the key (or the run has no config). */
  values: Array<string | null>;
}

/** The keys whose values differ among `configs` (null: a run without a config), in first-seen order. */
export function differingKeys(configs: Array<Record<string, unknown> | null>): ConfigDifference[] {
  const flat = configs.map((c) => (c ? flattenConfig(c) : new Map<string, string>()));
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const map of flat) for (const key of map.keys()) if (!seen.has(key)) (seen.add(key), keys.push(key));
  return keys
    .map((key) => ({ key, values: flat.map((map) => map.get(key) ?? null) }))
    .filter((d) => d.values.some((v) => v !== d.values[0]));
}
