// Loading a config: YAML file + `key.path=value` overrides, validated by the schema, with errors that name
// the key and what it allows.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { PretrainConfig } from './schema.js';
import { closest } from './suggest.js';

export class ConfigError extends Error {}

/** The schema's object at a section's path (through defaults and optionals), or null past a leaf. */
function sectionSchema(keys: string[]): z.ZodObject<z.ZodRawShape> | null {
  let node: z.ZodTypeAny = PretrainConfig;
  for (const key of keys) {
    while (node instanceof z.ZodDefault || node instanceof z.ZodOptional) node = node instanceof z.ZodDefault ? node._def.innerType : node.unwrap();
    if (!(node instanceof z.ZodObject)) return null;
    node = node.shape[key];
  }
  while (node instanceof z.ZodDefault || node instanceof z.ZodOptional) node = node instanceof z.ZodDefault ? node._def.innerType : node.unwrap();
  return node instanceof z.ZodObject ? node : null;
}

/** Checks a dotted key against the schema: `--set data.sourc=x` → "unknown key 'sourc' in data (did you mean 'source'?)". */
export function checkOverrideKey(keyPath: string): void {
  const keys = keyPath.split('.');
  for (let i = 0; i < keys.length; i++) {
    const section = sectionSchema(keys.slice(0, i));
    if (!section) throw new ConfigError(`--set ${keyPath}: '${keys.slice(0, i).join('.')}' is a value, not a section`);
    const allowed = Object.keys(section.shape);
    if (!allowed.includes(keys[i])) {
      const guess = closest(keys[i], allowed);
      const where = i === 0 ? 'at the top level' : `in ${keys.slice(0, i).join('.')}`;
      throw new ConfigError(`--set ${keyPath}: unknown key '${keys[i]}' ${where}${guess ? ` (did you mean '${[...keys.slice(0, i), guess].join('.')}'?)` : ''}; allowed: ${allowed.join(', ')}`);
    }
  }
}

/**
 * Sets `a.b.c` in a nested object (a `--set` on the command line); the key must exist in the schema, and the
 * value is parsed as YAML (so 3, true, [1,2] and 'text' work).
 */
export function applyOverride(target: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new ConfigError(`--set '${assignment}' must look like key.path=value`);
  checkOverrideKey(assignment.slice(0, eq).trim());
  const keys = assignment.slice(0, eq).trim().split('.');
  const value = YAML.parse(assignment.slice(eq + 1));
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (node[key] === undefined) node[key] = {};
    if (typeof node[key] !== 'object' || node[key] === null || Array.isArray(node[key])) {
      throw new ConfigError(`override '${assignment}': '${key}' is not a section`);
    }
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

export function describeZodError(error: z.ZodError, source: string, overrides: string[] = []): string {
  // A key set on the command line is the flag's fault, not the file's: name the --set.
  const setKeys = overrides.map((o) => o.slice(0, o.indexOf('=')).trim());
  let fromFile = false;
  const lines = error.issues.map((issue) => {
    const path = issue.path.join('.');
    const set = setKeys.find((k) => path === k || path.startsWith(`${k}.`));
    const key = set ? `--set ${overrides[setKeys.indexOf(set)]}: ${path}` : path || '(root)';
    if (!set) fromFile = true;
    let detail = issue.message;
    if (issue.code === 'invalid_enum_value') detail = `got '${String(issue.received)}', allowed: ${issue.options.join(', ')}`;
    if (issue.code === 'unrecognized_keys') detail = `unknown key(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    if (issue.code === 'invalid_type') detail = `expected ${issue.expected}, got ${issue.received}`;
    return `  ${key}: ${detail}`;
  });
  return `${fromFile ? `invalid config ${source}` : 'invalid --set value'}:\n${lines.join('\n')}`;
}

/** Parses raw config data (after overrides) with the schema; relative data paths resolve against `baseDir`. */
export function parseConfig(raw: unknown, source = '', baseDir = process.cwd(), overrides: string[] = []): PretrainConfig {
  const result = PretrainConfig.safeParse(raw);
  if (!result.success) throw new ConfigError(describeZodError(result.error, source, overrides));
  const config = result.data;
  const resolve = (p: string | undefined) => (p === undefined || path.isAbsolute(p) ? p : path.resolve(baseDir, p));
  config.data.source = resolve(config.data.source)!;
  config.data.labels = resolve(config.data.labels);
  config.init = resolve(config.init);
  return config;
}

export function loadConfig(file: string, overrides: string[] = []): PretrainConfig {
  let raw: Record<string, unknown>;
  try {
    raw = (YAML.parse(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`cannot read config ${file}: ${(error as Error).message}`);
  }
  for (const o of overrides) applyOverride(raw, o);
  // Paths in a config file are relative to the working directory, like paths on the command line.
  return parseConfig(raw, file, process.cwd(), overrides);
}
