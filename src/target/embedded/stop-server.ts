import { setTimeout as delay } from 'node:timers/promises';
import { isRunning, runsWithArgument } from './process-table.ts';
import { readSmallFile } from './small-file.ts';

/** How long a fast shutdown may take before the postmaster is killed. */
export const STOP_GRACE_MS = 5_000;
const POLL_MS = 50;

/**
 * Stops the postmaster of the data directory `data` if one is running: SIGINT (fast shutdown:
 * clients are disconnected, no checkpoint wait), then SIGKILL after STOP_GRACE_MS. Used for
 * what a dead run left behind and when the supervisor could not do it.
 *
 * The pid comes from `postmaster.pid` and is signalled only when that process was started with
 * `-D data`: a pid from a stale file may belong to any program by now.
 */
export async function stopServerIn(data: string): Promise<void> {
  const pid = await runningServer(data);
  if (pid === undefined) return;
  signal(pid, 'SIGINT');
  if (await exited(pid, STOP_GRACE_MS)) return;
  signal(pid, 'SIGKILL');
  await exited(pid, STOP_GRACE_MS);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error; // ESRCH: it just exited
  }
}

/** Polls until `pid` is gone (our caller is not its parent, so there is no exit event). */
export async function exited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(pid)) {
    if (Date.now() >= deadline) return false;
    await delay(POLL_MS);
  }
  return true;
}

/** The pid of the postmaster running in `data`, if one is (see `stopServerIn` on trusting the pid file). */
export async function runningServer(data: string): Promise<number | undefined> {
  const pid = Number((await readSmallFile(`${data}/postmaster.pid`))?.split('\n', 1)[0]);
  return Number.isInteger(pid) && pid > 0 && isRunning(pid) && (await runsWithArgument(pid, data)) ? pid : undefined;
}
