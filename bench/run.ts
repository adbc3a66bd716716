// `npm run bench -- <name> [options]`: runs bench/<name>.ts (which prints one JSON line) with the options.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3))
  .sort();
const [name, ...rest] = process.argv.slice(2);

if (!name || name === '--help' || name === '-h') {
  console.error(`usage: npm run bench -- <name> [options]\nbenchmarks: ${available.join(', ')}`);
  process.exit(name ? 0 : 2);
}
// A name, not a path: bench/<name>.ts only.
const file = path.join(here, `${name}.ts`);
if (!/^[A-Za-z0-9_-]+$/.test(name) || !existsSync(file)) {
  console.error(`unknown benchmark '${name}' (available: ${available.join(', ')})`);
  process.exit(2);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', file, ...rest], { stdio: 'inherit' });
if (result.error) {
  console.error(`could not run ${file}: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
