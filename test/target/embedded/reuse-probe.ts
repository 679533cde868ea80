import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { NODE, processes, safeReaddir } from './embedded-probe.ts';

/*
 * What the reuse tests see of runs and keepers, from the outside: child processes that acquire
 * the reused server (fixtures/reuse-child.ts), the keepers in the process table, the state
 * folder's files, the sockets a process listens on.
 */

export const REUSE_CHILD = fileURLToPath(new URL('./fixtures/reuse-child.ts', import.meta.url));
export const CLI = fileURLToPath(new URL('../../../src/cli/bin.ts', import.meta.url));
const KEEPER_MARK = 'e2e-migrations-reuse-keeper';

export type ReuseEvent =
  | { event: 'log'; line: string }
  | { event: 'wait'; what: string }
  | { event: 'acquired'; port: number; started: boolean; idleTimeoutMs: number; pid: number; ms: number }
  | { event: 'released' }
  | { event: 'failed'; name: string; message: string };

export interface ReuseRun {
  readonly process: ChildProcess;
  readonly events: ReuseEvent[];
  /** The acquisition, or a rejection naming the failure. */
  acquired(): Promise<Extract<ReuseEvent, { event: 'acquired' }>>;
  /** Asks a `hold` run to release, and waits for it to exit. */
  release(): Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ReuseRunOptions {
  /** Decides which reused servers the run sees: each test has its own. */
  readonly tmpdir: string;
  readonly password: string;
  readonly mode: 'hold' | 'release';
  readonly idleTimeoutMs?: number;
  /** Runs it as this user (the test runs as root). */
  readonly as?: { readonly uid: number; readonly gid: number };
}

/** Starts a run in a process of its own (fixtures/reuse-child.ts). */
export function startReuseRun(options: ReuseRunOptions): ReuseRun {
  const child = spawn(NODE, [REUSE_CHILD, options.mode], {
    env: {
      ...process.env,
      TMPDIR: options.tmpdir,
      REUSE_CHILD_PASSWORD: options.password,
      ...(options.idleTimeoutMs ? { REUSE_CHILD_IDLE_MS: String(options.idleTimeoutMs) } : {}),
      ...(options.as ? { HOME: options.tmpdir, NODE_COMPILE_CACHE: '' } : {}),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.as ? { uid: options.as.uid, gid: options.as.gid, cwd: options.tmpdir } : {}),
  });
  const events: ReuseEvent[] = [];
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const acquired = new Promise<Extract<ReuseEvent, { event: 'acquired' }>>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as ReuseEvent;
      events.push(event);
      if (event.event === 'acquired') resolve(event);
      if (event.event === 'failed') reject(new Error(`the run failed: ${event.name}: ${event.message}`));
    });
    void exited.then((exit) => reject(new Error(`the run exited (${exit.code ?? exit.signal}) without acquiring; stderr: ${stderr}; events: ${JSON.stringify(events.slice(-5))}`)));
  });
  acquired.catch(() => undefined); // observed by the test that awaits it
  return {
    process: child,
    events,
    acquired: () => acquired,
    release: async () => {
      child.stdin!.end('release\n');
      await exited;
    },
    exited,
  };
}

/** Runs the CLI as a user would, with `tmpdir` as TMPDIR (and `env` on top of ours), as `as` if given. */
export function runCli(
  tmpdir: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  as?: { readonly uid: number; readonly gid: number },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(NODE, [CLI, ...args], {
      env: { ...process.env, ...env, TMPDIR: tmpdir, ...(as ? { HOME: tmpdir, NODE_COMPILE_CACHE: '' } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(as ? { uid: as.uid, gid: as.gid, cwd: tmpdir } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** Live keepers whose TMPDIR is `tmpdir`: the keepers of one test's reused servers. */
export function keepersOf(tmpdir: string): number[] {
  return processes()
    .filter((p) => !p.zombie && p.args.includes(KEEPER_MARK))
    .filter((p) => environment(p.pid).includes(`TMPDIR=${tmpdir}`))
    .map((p) => p.pid);
}

/** A process's environment, one `NAME=value` an entry ([] once it is gone). */
export function environment(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** The state folder of user `uid` (the one running the tests by default), under `tmpdir`. */
export function stateFolder(tmpdir: string, uid = process.getuid!()): string {
  return join(tmpdir, `e2e-migrations-reuse-${uid}`);
}

/** The files in the state folder (none once every server stopped). */
export function stateFiles(tmpdir: string, uid = process.getuid!()): string[] {
  try {
    return readdirSync(stateFolder(tmpdir, uid));
  } catch {
    return [];
  }
}

/** The TCP addresses `pid` listens on (IPv4 dotted, IPv6 as `ipv6:<hex>`), from /proc. */
export function listeningAddressesOf(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of safeReaddir(`/proc/${pid}/fd`)) {
    const target = safeReadlink(`/proc/${pid}/fd/${fd}`);
    const inode = target?.match(/^socket:\[(\d+)\]$/)?.[1];
    if (inode) inodes.add(inode);
  }
  const found: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [, local, , state] = fields;
      if (state !== '0A' || !local || !inodes.has(fields[9]!)) continue; // 0A: LISTEN
      const [address] = local.split(':');
      found.push(address!.length === 8 ? Buffer.from(address!, 'hex').reverse().join('.') : `ipv6:${address}`);
    }
  }
  return found;
}

function safeReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
