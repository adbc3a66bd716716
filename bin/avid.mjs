#!/usr/bin/env node
// The `avid` command. In a checkout (src/ present) the TypeScript sources run through tsx's loader, so
// editing needs no build step; the installed package has no src/ and runs its compiled dist/ with plain Node.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
