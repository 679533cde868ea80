import { spawn } from 'node:child_process';
import { readdir, readFile, utimes } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';

/*
 * Spawns real Vitest and real Jest on the fixture projects, with the Node that runs this
 * suite (Node 24, which strips the types of our .ts sources), and collects their output.
 */

export const ROOT = join(import.meta.dirname, '../..');
export const FIXTURES = join(import.meta.dirname, 'fixtures');
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const JEST = join(ROOT, 'node_modules/jest/bin/jest.js');

export interface RunnerRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stdout and stderr, interleaved as they came. */
  readonly output: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  /** Send `signal` once the output matches `when` (after `delayMs`). */
  readonly interrupt?: { readonly when: RegExp; readonly signal: NodeJS.Signals; readonly delayMs?: number };
  /** Called with the output so far on each chunk; may write to stdin, touch files, etc. */
  readonly onOutput?: (output: string, child: { kill(signal: NodeJS.Signals): void }) => void;
  readonly timeoutMs?: number;
}

/** The environment of a nested run: ours without the outer Vitest's and e2e-migrations' own variables. */
function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(VITEST|JEST_|E2E_MIGRATIONS_|DATABASE_URL$|FIXTURE_|TEST$|NODE_ENV$)/.test(key)) continue;
    env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value;
  return { ...env, NO_COLOR: '1', FORCE_COLOR: '0', CI: '1' };
}

export function run(args: readonly string[], options: RunOptions = {}): Promise<RunnerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: options.cwd ?? ROOT, env: childEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let stderr = '';
    let interrupted = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    const onChunk = (chunk: Buffer, isErr: boolean) => {
      const text = chunk.toString();
      output += text;
      if (isErr) stderr += text;
      options.onOutput?.(output, child);
      const interrupt = options.interrupt;
      if (interrupt && !interrupted && interrupt.when.test(output)) {
        interrupted = true;
        setTimeout(() => child.kill(interrupt.signal), interrupt.delayMs ?? 200);
      }
    };
    child.stdout.on('data', (chunk: Buffer) => onChunk(chunk, false));
    child.stderr.on('data', (chunk: Buffer) => onChunk(chunk, true));
    child.on('error', reject);
    // 'close' waits for every holder of the pipes, so anything the runner left running with
    // them (a server, a worker) would show up here as a hang.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, stderr });
    });
  });
}

export function vitest(project: string, args: readonly string[] = [], options: RunOptions = {}): Promise<RunnerRun> {
  return run([VITEST, 'run', '--root', join(FIXTURES, project), ...args], options);
}

/**
 * Vitest in watch mode: after the first passing run it touches `spec` so the file reruns,
 * and once the rerun was re-verified and passed it sends SIGTERM. `stopped` says it got there.
 */
export async function vitestWatchRerun(project: string, args: readonly string[], spec: string, options: RunOptions = {}): Promise<RunnerRun & { stopped: boolean }> {
  let touched = false;
  let stopped = false;
  const result = await run([VITEST, 'watch', '--root', join(FIXTURES, project), ...args], {
    ...options,
    onOutput: (output, child) => {
      if (!touched && count(output, /Test Files\s+1 passed/) === 1) {
        touched = true;
        const now = new Date();
        void utimes(spec, now, now);
      }
      if (!stopped && /verify\s+ok\s+\d+ ms\s+rerun:/.test(output) && count(output, /Test Files\s+1 passed/) === 2) {
        stopped = true;
        child.kill('SIGTERM');
      }
    },
  });
  return { ...result, stopped };
}

export function jest(project: string, args: readonly string[] = [], options: RunOptions = {}): Promise<RunnerRun> {
  return run([JEST, '--config', join(FIXTURES, project, 'jest.config.mjs'), ...args], options);
}

/** The `[e2e-migrations] <stage> ok|FAILED` lines, as "stage status". */
export function stageResults(output: string): string[] {
  return [...output.matchAll(/^\[e2e-migrations\] (\w+)\s+(ok|FAILED)\s/gm)].map((m) => `${m[1]} ${m[2]}`);
}

export function count(output: string, pattern: RegExp): number {
  return [...output.matchAll(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`))].length;
}

/** The JSON a fixture test printed after `INJECTED `. */
export function injected(output: string): Record<string, unknown>[] {
  return [...output.matchAll(/^\s*INJECTED (\{.*\})$/gm)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);
}

/** The embedded server's port, from the target stage line. */
export function embeddedPort(output: string): number {
  const match = /embedded Postgres 16 on 127\.0\.0\.1:(\d+)/.exec(output);
  if (!match) throw new Error(`no embedded target in the output:\n${output}`);
  return Number(match[1]);
}

/** Resolves to the error code of a TCP connect to 127.0.0.1:port, or 'connected'. */
export function probePort(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

/** Command lines of live processes that mention `needle` (Linux /proc). */
export async function processesMentioning(needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(needle)) found.push(`${pid}: ${cmdline.split('\0').join(' ')}`);
  }
  return found;
}

/** Nothing of an embedded server is left: its port refuses and no postgres serves it. */
export async function expectEmbeddedGone(port: number): Promise<{ probe: string; processes: string[] }> {
  return { probe: await probePort(port), processes: (await processesMentioning(`\0-p\0${port}\0`)).filter((p) => p.includes('postgres')) };
}
