import { spawn, type SpawnOptions } from 'node:child_process';
import type { ServerUser } from './server-user.ts';

/**
 * How every process of the embedded server is started: as the server's user, from `/` (a
 * project folder may be unreadable to that user), with a small environment of our choosing
 * — no PG* variables that would redirect initdb or postgres, no LD_LIBRARY_PATH that would
 * shadow the binaries' own libraries, messages in English for our error messages.
 */
export function serverSpawnOptions(user: ServerUser): SpawnOptions {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LC_ALL: 'C', LANG: 'C' };
  if (process.env.TZ) env.TZ = process.env.TZ; // initdb writes the time zone it finds into the config
  return { cwd: '/', env, ...(user.switched ? { uid: user.uid, gid: user.gid } : {}) };
}

/**
 * Runs a fixed `sh` script as the server's user; `args` are its positional parameters, never
 * part of the script text. `input` goes to its stdin (secrets travel there, not in argv,
 * which every user can read). Resolves when it exits 0; rejects with its stderr otherwise.
 */
export function runAsServerUser(user: ServerUser, script: string, args: readonly string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script, 'e2e-migrations', ...args], {
      ...serverSpawnOptions(user),
      stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin?.on('error', () => {}).end(input); // EPIPE when the script failed first: its exit code tells
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${stderr.trim() || 'sh'} (exit ${code ?? signal})`));
    });
  });
}
