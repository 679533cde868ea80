import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DatabaseError } from '../../errors/errors.ts';
import { DETACH, KEEPER_MARK, keeperScript, START_WAIT_MS, type KeeperInput, type KeeperMessage } from './keeper-protocol.ts';
import { isOwnerGone, type OwnerRecord } from './owner-record.ts';
import { runsWithArgument } from './process-table.ts';
import { exited, STOP_GRACE_MS } from './stop-server.ts';
import { within } from './within.ts';

/** A keeper whose server is up, not yet handed over. */
export interface StartingKeeper {
  readonly pid: number;
  readonly port: number;
  /** The server's data directory. */
  readonly data: string;
  /** Hands the server over: the keeper records it and lives on alone; our pipes close. */
  detach(): Promise<void>;
  /** Gives up: the keeper stops the server, deletes its directory and exits. */
  abandon(): Promise<void>;
}

/** How long a keeper may take to answer the hand-over (it writes one file). */
const DETACH_WAIT_MS = 30_000;
/** How long a keeper may take to stop its server (fast shutdown, then SIGKILL) and exit. */
export const KEEPER_STOP_MS = STOP_GRACE_MS + 10_000;
/** Lines of the keeper's stderr kept for error messages. */
const TAIL_LINES = 20;

/**
 * Only what the keeper needs from our environment — it outlives this run and must not carry
 * its secrets (E2E_MIGRATIONS_PASSWORD, PG* variables, tokens). TMPDIR is passed on: it
 * decides the state folder and, for an ordinary user, where the run directory goes.
 */
const PASSED_VARIABLES = ['PATH', 'TMPDIR', 'TZ', 'HOME', 'LANG', 'LC_ALL'] as const;

/**
 * Starts a keeper (reuse-keeper.ts) detached — in a session of its own, so neither a Ctrl-C
 * nor the end of this process's group reaches it — and waits until its server accepts logins.
 * The password reaches it through its stdin, never its command line or environment.
 */
export async function startKeeper(input: KeeperInput, options: { readonly onLog: (line: string) => void; readonly signal?: AbortSignal }): Promise<StartingKeeper> {
  const env: NodeJS.ProcessEnv = {};
  for (const name of PASSED_VARIABLES) if (process.env[name] !== undefined) env[name] = process.env[name];
  const child = spawn(process.execPath, [keeperScript(), KEEPER_MARK], { detached: true, cwd: '/', env, stdio: ['pipe', 'pipe', 'pipe'] });
  // EPIPE when the keeper is already gone: its exit, reported below, says why.
  child.stdin!.on('error', () => undefined);
  const tail: string[] = [];
  createInterface({ input: child.stderr!, crlfDelay: Infinity }).on('line', (line) => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    options.onLog(line);
  });
  const messages: KeeperMessage[] = [];
  let wake = (): void => undefined;
  createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', (line) => {
    try {
      messages.push(JSON.parse(line) as KeeperMessage);
    } catch {
      options.onLog(line); // not a message: show it rather than lose it
    }
    wake();
  });
  const gone = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  void gone.then(() => wake());
  let exit: Awaited<typeof gone> | undefined;
  void gone.then((value) => (exit = value));

  /** The next message of one of `events`; rejects when the keeper exits first or time runs out. */
  const next = async <E extends KeeperMessage['event']>(events: readonly E[], timeoutMs: number): Promise<Extract<KeeperMessage, { event: E }>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = messages.find((m): m is Extract<KeeperMessage, { event: E }> => (events as readonly string[]).includes(m.event));
      if (found) return found;
      if (exit) throw new Error(`the keeper exited (${exit.error?.message ?? `exit ${exit.code ?? exit.signal}`}) before it said "${events.join('" or "')}":\n${tail.join('\n')}`);
      if (Date.now() >= deadline) throw new Error(`the keeper did not say "${events.join('" or "')}" within ${timeoutMs} ms:\n${tail.join('\n')}`);
      const message = new Promise<void>((resolve) => (wake = resolve));
      await within(message, deadline - Date.now(), options.signal);
    }
  };
  const abandon = async (): Promise<void> => {
    child.stdin!.end();
    if (await within(gone, KEEPER_STOP_MS)) return;
    child.kill('SIGKILL'); // its server's supervisor then stops the server (supervisor.ts)
    await gone;
  };

  try {
    child.stdin!.write(`${JSON.stringify(input)}\n`);
    const ready = await next(['ready', 'failed'], START_WAIT_MS);
    if (ready.event === 'failed') throw new DatabaseError(ready.message);
    return {
      pid: child.pid!,
      port: ready.port,
      data: ready.data,
      abandon,
      detach: async () => {
        child.stdin!.write(`${DETACH}\n`);
        await next(['detached'], DETACH_WAIT_MS);
        // From here the keeper lives on its own: nothing of ours may keep this process alive for it.
        child.stdin!.end();
        child.stdout!.destroy();
        child.stderr!.destroy();
        child.unref();
      },
    };
  } catch (error) {
    await abandon();
    throw error;
  }
}

/**
 * Stops the keeper `keeper` names, if it still runs: SIGTERM (it stops its server and removes
 * its directory and record), SIGKILL if it takes longer than KEEPER_STOP_MS (its server's
 * supervisor then stops the server). Resolves true when it was running. A pid is signalled
 * only when it is that keeper still — same start time, a keeper's command line.
 */
export async function stopKeeper(keeper: OwnerRecord): Promise<boolean> {
  if ((await isOwnerGone(keeper)) || !(await runsWithArgument(keeper.pid, KEEPER_MARK))) return false;
  kill(keeper.pid, 'SIGTERM');
  if (await exited(keeper.pid, KEEPER_STOP_MS)) return true;
  kill(keeper.pid, 'SIGKILL');
  await exited(keeper.pid, STOP_GRACE_MS);
  return true;
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error; // ESRCH: it just exited
  }
}
