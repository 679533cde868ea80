import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

/*
 * What the process table says about a pid. Linux answers from /proc; elsewhere (macOS) `ps`
 * answers what it can, and the start time is unknown.
 */

/**
 * True while `pid` runs. EPERM means it exists but belongs to another user. A zombie (exited,
 * not yet reaped — in containers whose init never reaps, it may stay one) counts as gone.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return state(readFileSync(`/proc/${pid}/stat`, 'utf8')) !== 'Z';
  } catch (error) {
    // Gone since the signal check, or no /proc (macOS): then the signal check answers.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync('/proc/self');
  }
}

/** The fields of /proc/PID/stat after the command name, which is in parentheses and may hold spaces. */
function fieldsAfterName(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function state(stat: string): string | undefined {
  return fieldsAfterName(stat)[0];
}

/**
 * When `pid` started, in clock ticks since boot (field 22 of /proc/PID/stat), or undefined
 * when it is gone or the system has no /proc. Together with the pid it names one process:
 * pids are reused, start times of live processes with the same pid are not.
 */
export async function startTime(pid: number): Promise<string | undefined> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone, or no /proc: the caller falls back to the pid alone
  }
  return fieldsAfterName(stat)[19];
}

/**
 * True when the live process `pid` was started with `argument` (one whole argument on Linux;
 * a substring of the command line `ps` prints elsewhere). Used before signalling a pid read
 * from a file: a pid that has been reused by another program must not be signalled.
 */
export async function runsWithArgument(pid: number, argument: string): Promise<boolean> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').includes(argument);
  } catch (error) {
    if (process.platform === 'linux' || (error as NodeJS.ErrnoException).code !== 'ENOENT') return false;
  }
  // No /proc (macOS): ps prints the arguments joined by spaces.
  try {
    const { stdout } = await promisify(execFile)('ps', ['-o', 'command=', '-p', String(pid)]);
    return stdout.includes(argument);
  } catch {
    return false; // ps exits 1 when the pid is gone
  }
}
