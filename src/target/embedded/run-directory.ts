import { randomBytes } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { OWNER_FILE, ownRecord } from './owner-record.ts';
import { runAsServerUser } from './run-as.ts';
import type { RunArea } from './run-area.ts';
import { RUN_PREFIX } from './run-area.ts';
import type { ServerUser } from './server-user.ts';
import { stopServerIn } from './stop-server.ts';

/**
 * One run's private directory (0700, owned by the server's user): `owner.json` (who started
 * it, see owner-record.ts), `data/` (the cluster) and, only while initdb runs, `pwfile`.
 */
export interface RunDirectory {
  readonly path: string;
  readonly data: string;
  readonly passwordFile: string;
  readonly user: ServerUser;
}

/*
 * Every write and delete inside the run area is done by a process running as the server's
 * user (run-area.ts says why). The scripts are fixed; paths are positional parameters.
 */
const CREATE = 'umask 077 && mkdir -- "$1" && printf "%s\\n" "$2" > "$1/$3"';
// noclobber: the password goes into a new file only, never through an existing one or a link.
const WRITE_SECRET = 'umask 077 && set -C && cat > "$1"';
const REMOVE = 'rm -rf -- "$1"';

/** Creates a new run directory recording this process as its owner. */
export async function createRunDirectory(area: RunArea): Promise<RunDirectory> {
  const path = join(area.runs, RUN_PREFIX + randomBytes(6).toString('hex'));
  const owner = { ...(await ownRecord()), createdAt: new Date().toISOString() };
  await runAsServerUser(area.user, CREATE, [path, JSON.stringify(owner), OWNER_FILE]);
  return { path, data: join(path, 'data'), passwordFile: join(path, 'pwfile'), user: area.user };
}

/**
 * Writes the superuser's password for initdb: mode 0600, owned by the server's user, inside
 * the 0700 run directory, so no other user can read it; the password reaches the writing
 * process through a pipe, never through argv.
 */
export async function writePasswordFile(run: RunDirectory, password: string): Promise<void> {
  await runAsServerUser(run.user, WRITE_SECRET, [run.passwordFile], `${password}\n`);
}

export async function removePasswordFile(run: RunDirectory): Promise<void> {
  await runAsServerUser(run.user, 'rm -f -- "$1"', [run.passwordFile]);
}

/**
 * Stops a server still running in the run directory `path`, then deletes the directory.
 * A no-op when it is gone; safe to run twice at once.
 */
export async function removeRunDirectory(path: string, user: ServerUser): Promise<void> {
  if (!(await lstat(path).then(() => true, () => false))) return;
  await stopServerIn(join(path, 'data'));
  await runAsServerUser(user, REMOVE, [path]);
}
