import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { ConnectionInfo } from '../../../src/postgres/connection-string.ts';

/*
 * What a user (or `ps`, `ls`) sees of an embedded Postgres, for the tests: processes, folders,
 * files. Found from the outside — /proc and the file system — never from the module's state.
 */

export const isRoot = process.getuid?.() === 0;
export const NODE = fileURLToPath(new URL('../../../node_modules/.bin/node', import.meta.url));
export const CHILD = fileURLToPath(new URL('./fixtures/embedded-child.ts', import.meta.url));
export const MODULE = fileURLToPath(new URL('../../../src/target/embedded/embedded-target.ts', import.meta.url));
/** Where runs of a root process live (see run-area.ts); an ordinary user's live in its TMPDIR. */
export const ROOT_RUNS = '/var/tmp/e2e-migrations/runs';
/** Where a root process runs the binaries from. */
export const ROOT_BINARIES = '/var/cache/e2e-migrations';
export const RUN_PREFIX = 'e2e-migrations-pg-';

interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly args: readonly string[];
  readonly zombie: boolean;
}

/** The process table now. */
export function processes(): ProcessEntry[] {
  const list: ProcessEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').slice(0, -1);
      list.push({ pid: Number(name), ppid: Number(fields[1]), uid: statSync(`/proc/${name}`).uid, args, zombie: fields[0] === 'Z' });
    } catch {
      continue; // exited while we looked
    }
  }
  return list;
}

/** Live processes whose command line mentions `text` (a run directory), and their descendants. */
export function processesMentioning(text: string): ProcessEntry[] {
  const all = processes().filter((p) => !p.zombie);
  const found = new Map(all.filter((p) => p.args.some((arg) => arg.includes(text))).map((p) => [p.pid, p]));
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (!found.has(p.pid) && found.has(p.ppid)) {
        found.set(p.pid, p);
        grew = true;
      }
    }
  }
  return [...found.values()];
}

/** The postmaster listening on `port` (its `-p` argument) and the run directory it serves. */
export function postmasterOn(port: number): { pid: number; ppid: number; uid: number; runDir: string; binary: string } | undefined {
  for (const p of processes()) {
    const at = p.args.indexOf('-p');
    // The supervisor's command line holds the postmaster's: only the postgres program counts.
    if (at < 0 || p.args[at + 1] !== String(port) || p.zombie || !p.args[0]!.endsWith('/postgres')) continue;
    const data = p.args[p.args.indexOf('-D') + 1]!;
    return { pid: p.pid, ppid: p.ppid, uid: p.uid, runDir: data.replace(/\/data$/, ''), binary: p.args[0]! };
  }
  return undefined;
}

/** True while `pid` runs (a zombie has exited). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * What listens on `port`, as `ss -l` would say: the addresses of TCP listeners (IPv4 and
 * IPv6), and the Unix sockets Postgres would name after the port.
 */
export function listenersOn(port: number): { tcp: string[]; unix: string[] } {
  const tcp: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== '0A' || !local) continue; // 0A: LISTEN
      const [address, hexPort] = local.split(':');
      if (Number.parseInt(hexPort!, 16) !== port) continue;
      tcp.push(address!.length === 8 ? Buffer.from(address!, 'hex').reverse().join('.') : `ipv6:${address}`);
    }
  }
  const unix = readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .filter((line) => line.includes(`.s.PGSQL.${port}`));
  return { tcp, unix };
}

/** Run directories in `runs` whose owner record names `pid`. */
export function runDirsOwnedBy(pid: number, runs = isRoot ? ROOT_RUNS : tmpdir()): string[] {
  const found: string[] = [];
  for (const name of safeReaddir(runs)) {
    if (!name.startsWith(RUN_PREFIX)) continue;
    try {
      const owner = JSON.parse(readFileSync(join(runs, name, 'owner.json'), 'utf8')) as { pid: number };
      if (owner.pid === pid) found.push(join(runs, name));
    } catch {
      continue; // being created or removed
    }
  }
  return found;
}

/** A folder's entries, or none when it cannot be read (gone, or not ours to read). */
export function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Polls `check` every 50 ms until it is true; returns the milliseconds it took. */
export async function waitUntil(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(50);
  }
  return Date.now() - start;
}

export interface Leak {
  readonly where: string;
  readonly why: string;
}

/**
 * Every place where `password` can be read by a user other than the file's owner: files under
 * `dirs` (recursively) and directly in `shallow` (files over 1 MiB skipped — WAL segments,
 * binaries) readable by group or others, or not owned by `owners`; and command lines, which
 * every user can read. Files that hold it privately are listed in `privateFiles`.
 */
export function findPasswordLeaks(
  password: string,
  { dirs, shallow = [], owners }: { dirs: readonly string[]; shallow?: readonly string[]; owners: readonly number[] },
): { leaks: Leak[]; privateFiles: string[] } {
  const leaks: Leak[] = [];
  const privateFiles: string[] = [];
  const visit = (path: string, depth: number, maxDepth: number): void => {
    let info: Stats;
    try {
      info = statSync(path);
    } catch {
      return; // removed while we looked
    }
    if (info.isDirectory()) {
      if (depth >= maxDepth) return;
      for (const name of safeReaddir(path)) visit(join(path, name), depth + 1, maxDepth);
      return;
    }
    if (!info.isFile() || info.size > 1 << 20) return;
    let content: string;
    try {
      content = readFileSync(path, 'latin1');
    } catch {
      return;
    }
    if (!content.includes(password)) return;
    if ((info.mode & 0o077) !== 0 || !owners.includes(info.uid)) {
      leaks.push({ where: path, why: `mode ${(info.mode & 0o777).toString(8)}, owner uid ${info.uid}` });
    } else {
      privateFiles.push(path);
    }
  };
  for (const dir of dirs) visit(dir, 0, 8);
  for (const dir of shallow) visit(dir, 0, 1);
  for (const p of processes()) {
    if (p.args.some((arg) => arg.includes(password))) leaks.push({ where: `/proc/${p.pid}/cmdline`, why: p.args.join(' ').slice(0, 200) });
  }
  return { leaks, privateFiles };
}

/** Logs in and runs one query: what a test does with the server. */
export async function login(connection: ConnectionInfo): Promise<{ user: string; database: string }> {
  const { host, port, user, password, database } = connection;
  const client = new pg.Client({ host, port, user, password, database });
  await client.connect();
  try {
    const { rows } = await client.query<{ user: string; database: string }>('SELECT current_user AS user, current_database() AS database');
    return rows[0]!;
  } finally {
    await client.end();
  }
}

export type ChildEvent =
  | { event: 'log'; line: string }
  | { event: 'started'; connection: ConnectionInfo; ms: number }
  | { event: 'closed'; ms: number }
  | { event: 'failed'; name: string; message: string };

export interface Child {
  readonly process: ChildProcess;
  readonly events: ChildEvent[];
  /** Resolves with the first event (seen or to come) that `match` accepts. */
  next<E extends ChildEvent>(match: (event: ChildEvent) => event is E, timeoutMs?: number): Promise<E>;
  next(match: (event: ChildEvent) => boolean, timeoutMs?: number): Promise<ChildEvent>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly stderr: () => string;
}

export interface ChildOptions {
  /** The embedded-target module to import. @default this repository's */
  readonly module?: string;
  /** hold: start, wait for "close" on stdin; abort-on-sigterm: abort the start on SIGTERM; plain: no signal handling. */
  readonly mode: 'hold' | 'abort-on-sigterm' | 'plain';
  readonly password: string;
  readonly script?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly spawn?: SpawnOptions;
}

/** Runs the fixture that starts an embedded Postgres in a child process (see fixtures/embedded-child.ts). */
export function startChild(options: ChildOptions): Child {
  const child = spawn(NODE, [options.script ?? CHILD, options.module ?? MODULE, options.mode], {
    ...options.spawn,
    env: { ...process.env, ...options.env, EMBEDDED_CHILD_PASSWORD: options.password },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const events: ChildEvent[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as ChildEvent);
    } catch {
      events.push({ event: 'log', line });
    }
    for (const wake of waiters) wake();
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  void exited.then(() => {
    for (const wake of waiters) wake();
  });
  let gone = false;
  void exited.then(() => (gone = true));
  const next = (match: (event: ChildEvent) => boolean, timeoutMs = 60_000): Promise<ChildEvent> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`the child did not report the awaited event within ${timeoutMs} ms; events: ${JSON.stringify(events.slice(-5))}; stderr: ${stderr}`)), timeoutMs);
      const check = (): void => {
        const found = events.find(match);
        if (found) done(undefined, found);
        else if (gone) done(new Error(`the child exited without the awaited event; events: ${JSON.stringify(events.slice(-5))}; stderr: ${stderr}`));
      };
      const done = (error?: Error, event?: ChildEvent): void => {
        clearTimeout(timer);
        waiters.delete(check);
        if (error) reject(error);
        else resolve(event!);
      };
      waiters.add(check);
      check();
    });
  return { process: child, events, next: next as Child['next'], exited, stderr: () => stderr };
}

export const isStarted = (e: ChildEvent): e is Extract<ChildEvent, { event: 'started' }> => e.event === 'started';
export const isFailed = (e: ChildEvent): e is Extract<ChildEvent, { event: 'failed' }> => e.event === 'failed';
export const isClosed = (e: ChildEvent): e is Extract<ChildEvent, { event: 'closed' }> => e.event === 'closed';
