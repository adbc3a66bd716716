// `avid <command> [...]`: each command is one file in ./commands exporting `summary` and `run(argv)`.
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { closest } from '../config/suggest.js';

export interface Command {
  summary: string;
  run(argv: string[]): Promise<number | void>;
}

const here = fileURLToPath(import.meta.url);
const commandsDir = path.join(path.dirname(here), 'commands');
// '.ts' when run from source through tsx, '.js' in the compiled package (dist/, next to its .d.ts files).
const extension = path.extname(here);

function commandNames(): string[] {
  return readdirSync(commandsDir)
    .filter((f) => f.endsWith(extension) && !f.endsWith(`.test${extension}`) && !f.endsWith(`.d${extension}`))
    .map((f) => f.slice(0, -extension.length))
    .sort();
}

async function loadCommand(name: string): Promise<Command> {
  return (await import(pathToFileURL(path.join(commandsDir, `${name}${extension}`)).href)) as Command;
}

async function usage(): Promise<string> {
  const lines = ['usage: avid <command> [options]', '', 'commands:'];
  for (const name of commandNames()) lines.push(`  ${name.padEnd(12)} ${(await loadCommand(name)).summary}`);
  lines.push('', 'Run `avid <command> --help` for a command\'s options.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return name ? 0 : 1;
  }
  if (!commandNames().includes(name)) {
    const guess = closest(name, commandNames());
    console.error(`avid: unknown command '${name}'${guess ? ` (did you mean '${guess}'?)` : ''}\n\n${await usage()}`);
    return 2;
  }
  try {
    const code = await (await loadCommand(name)).run(rest);
    return typeof code === 'number' ? code : 0;
  } catch (error) {
    const e = error as Error;
    console.error(`avid ${name}: ${e.message}`);
    if (process.env.AVID_DEBUG) console.error(e.stack);
    return 1;
  }
}
