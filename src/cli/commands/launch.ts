// `avid launch --nproc N [--nnodes M --node-rank R --master ADDR:PORT] -- <avid command and args>`:
// data-parallel training over N processes per machine (torchrun's environment variables).
import { freePort } from '../../distributed/free-port.js';
import { availableParallelism } from 'node:os';
import { launch } from '../../distributed/launcher.js';
import { parseCommandLine } from '../flags.js';

export const summary = 'run an avid command as N data-parallel processes (torchrun-style, c10d Gloo/NCCL)';

const usage = `usage: avid launch --nproc N [options] -- <command> [args...]

Starts N processes of \`avid <command> [args...]\` on this machine, each with RANK, WORLD_SIZE, LOCAL_RANK,
LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT set (as torchrun does) and a share of the CPU threads.
Output lines are prefixed with [rank i]. If any rank fails, the others are stopped and launch exits
non-zero, naming the rank and its exit code. If launch itself is killed, its ranks end too.

options:
  --nproc N            processes on this machine (required)
  --nnodes M           machines taking part (default 1)
  --node-rank R        this machine's index in [0, M) (default 0)
  --master ADDR:PORT   rank 0's host and rendezvous port (required when M > 1; default 127.0.0.1 and a
                       free port)
  --threads K          libtorch threads per process (default floor(cores / N); this machine has
                       ${availableParallelism()} cores)
  --timeout MS         how long a collective may wait for the other ranks (AVID_DIST_TIMEOUT_MS)
  --backend B          gloo (CPU, default) or nccl (CUDA builds)
  --rendezvous KIND    file (default with one machine: the ranks meet through a file in a private
                       temporary folder, no port opens) or tcp (rank 0's TCP store on --master; required
                       with M > 1; it listens on every interface, unauthenticated: see docs/distributed.md)
  --script             the command is a Node script (.js, or .ts run through tsx) instead of an avid command

example: avid launch --nproc 2 -- pretrain --config configs/small.yaml`;

function integerOption(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new Error(`--${name} must be a non-negative integer, got '${raw}'`);
  return Number(raw);
}

/** "host:port" or "[ipv6]:port". */
function parseMaster(raw: string): { addr: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(raw);
  if (!match) throw new Error(`--master must be ADDR:PORT (for example 10.0.0.1:29500), got '${raw}'`);
  const port = Number(match[3]);
  if (port < 1 || port > 65535) throw new Error(`--master port must be in [1, 65535], got ${port}`);
  return { addr: match[1] ?? match[2], port };
}

export async function run(argv: string[]): Promise<number> {
  // Everything after `--` belongs to the launched command, options included.
  const separator = argv.indexOf('--');
  const own = separator >= 0 ? argv.slice(0, separator) : argv;
  const command = separator >= 0 ? argv.slice(separator + 1) : [];
  const { values } = parseCommandLine({
    args: own,
    options: {
      nproc: { type: 'string' },
      nnodes: { type: 'string' },
      'node-rank': { type: 'string' },
      master: { type: 'string' },
      threads: { type: 'string' },
      timeout: { type: 'string' },
      backend: { type: 'string' },
      rendezvous: { type: 'string' },
      script: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (values.nproc === undefined) throw new Error(`--nproc is required\n\n${usage}`);
  if (command.length === 0) throw new Error(`no command given: put the avid command after --\n\n${usage}`);
  const nnodes = integerOption('nnodes', values.nnodes) ?? 1;
  if (nnodes > 1 && values.master === undefined) throw new Error("--master ADDR:PORT (rank 0's machine) is required with --nnodes > 1");
  const backend = values.backend;
  if (backend !== undefined && backend !== 'gloo' && backend !== 'nccl') throw new Error(`--backend must be gloo or nccl, got '${backend}'`);
  const rendezvous = values.rendezvous;
  if (rendezvous !== undefined && rendezvous !== 'file' && rendezvous !== 'tcp') throw new Error(`--rendezvous must be file or tcp, got '${rendezvous}'`);
  const master = values.master !== undefined ? parseMaster(values.master) : { addr: '127.0.0.1', port: await freePort() };

  const result = await launch({
    nproc: integerOption('nproc', values.nproc)!,
    nnodes,
    nodeRank: integerOption('node-rank', values['node-rank']),
    masterAddr: master.addr,
    masterPort: master.port,
    command,
    script: values.script,
    threadsPerProcess: integerOption('threads', values.threads),
    timeoutMs: integerOption('timeout', values.timeout),
    backend,
    rendezvous,
  });
  if (result.message) console.error(`avid launch: failed: ${result.message}`);
  return result.code;
}
