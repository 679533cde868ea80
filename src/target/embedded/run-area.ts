import { chmod, chown, lstat, mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseError } from '../../errors/errors.ts';
import { cachedBinaries } from './binaries-cache.ts';
import { ensureEmbeddedBinaries } from './embedded-binaries.ts';
import type { ServerUser } from './server-user.ts';

/** Where runs happen: the binaries to start, the folder holding one directory per run. */
export interface RunArea {
  readonly user: ServerUser;
  /** The `native/` folder whose `bin/initdb` and `bin/postgres` are started. */
  readonly binaries: string;
  /** Holds the run directories, named `RUN_PREFIX` + random. */
  readonly runs: string;
}

/** Run directories are named this, followed by random characters. */
export const RUN_PREFIX = 'e2e-migrations-pg-';
/** As root: the name of our folders outside any project (see `prepareRunArea`). */
export const SHARED_FOLDER = 'e2e-migrations';

/**
 * The run area for `user`.
 *
 * As an ordinary user, Postgres runs as us: the binaries run where npm put them and run
 * directories go to the temporary folder, each private (0700).
 *
 * As root, Postgres runs as the server's user, who may be unable to traverse the project (under
 * /root, or any 0700 folder) or TMPDIR (often a private folder). So both live outside them, in
 * folders root owns and others may only enter:
 * - /var/cache/e2e-migrations holds the binaries' copy — not /var/tmp, which hardened systems
 *   mount noexec and cleaners prune;
 * - /var/tmp/e2e-migrations/runs holds the run directories. `runs/` itself belongs to the
 *   server's user, mode 0700: only it (and root) can see inside, and it creates and deletes its
 *   run directories itself. Root never writes inside `runs/`: everything there is done by
 *   processes running as the server's user (see run-directory.ts), so that user cannot trick
 *   root into writing or deleting elsewhere through symlinks.
 */
export async function prepareRunArea(user: ServerUser): Promise<RunArea> {
  if (!user.switched) return { user, binaries: (await ensureEmbeddedBinaries()).dir, runs: tmpdir() };
  const binaries = await sharedBinaries();
  const runs = join(await rootFolder(await firstFolder('/var/tmp', '/tmp')), 'runs');
  await mkdir(runs, { mode: 0o700 }).catch(existsIsFine);
  const info = await lstat(runs);
  if (!info.isDirectory()) throw new DatabaseError(`${runs} is not a folder; remove it and retry`);
  // Safe to fix in place: only root can create or replace entries of the folder above.
  if (info.uid !== user.uid || info.gid !== user.gid) await chown(runs, user.uid, user.gid);
  if ((info.mode & 0o777) !== 0o700) await chmod(runs, 0o700);
  return { user, binaries, runs };
}

let shared: Promise<string> | undefined;

/** The binaries' copy, checked once per process (the check reads every file's size). */
function sharedBinaries(): Promise<string> {
  shared ??= (async () => {
    const binaries = await ensureEmbeddedBinaries();
    return cachedBinaries(binaries, await rootFolder(await firstFolder('/var/cache', '/var/tmp', '/tmp')));
  })().catch((error: unknown) => {
    shared = undefined; // not remembered: the next start tries again
    throw error;
  });
  return shared;
}

async function firstFolder(...candidates: string[]): Promise<string> {
  for (const candidate of candidates) if (await stat(candidate).then((s) => s.isDirectory(), () => false)) return candidate;
  return tmpdir();
}

/**
 * `parent/e2e-migrations`, created 0755 by root. Anyone may create that name first in a
 * world-writable folder (/var/tmp), so a folder found there is used only when root owns it
 * and no one else can write to it.
 */
async function rootFolder(parent: string): Promise<string> {
  const folder = join(parent, SHARED_FOLDER);
  const made = await mkdir(folder, { mode: 0o755 }).then(() => true, existsIsFine);
  if (made) await chmod(folder, 0o755); // mkdir's mode is filtered by the umask
  const info = await lstat(folder);
  if (!info.isDirectory() || info.uid !== 0 || (info.mode & 0o022) !== 0) {
    const found = info.isDirectory() ? `owner uid ${info.uid}, mode ${(info.mode & 0o7777).toString(8)}` : 'not a folder';
    throw new DatabaseError(`refusing to use ${folder} for the embedded Postgres: it must be a folder owned by root that others cannot write to (${found}); remove it and retry`);
  }
  return folder;
}

function existsIsFine(error: NodeJS.ErrnoException): false {
  if (error.code !== 'EEXIST') throw error;
  return false;
}
