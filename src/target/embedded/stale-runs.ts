import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isOwnerGone, readOwnerRecord } from './owner-record.ts';
import { RUN_PREFIX, type RunArea } from './run-area.ts';
import { removeRunDirectory } from './run-directory.ts';
import type { ServerUser } from './server-user.ts';
import { runningServer } from './stop-server.ts';

/**
 * A run directory without an owner record is either being created this instant or was made
 * by an older version of this package; it is left alone until it is this old.
 */
const UNRECORDED_GRACE_MS = 10 * 60_000;

/**
 * Removes what runs that died left in the run area — those whose supervisor died with them
 * (SIGKILL of the whole process group, the OOM killer, a reboot): stops a server still running
 * in such a directory and deletes it. Directories of live runs, of other users and of other
 * containers are left alone. Never fails a start: a directory that cannot be removed is
 * reported through `log` and tried again by the next start.
 */
export async function removeStaleRuns(area: RunArea, log: (line: string) => void): Promise<void> {
  let names: string[];
  try {
    names = await readdir(area.runs);
  } catch (error) {
    log(`could not look for stale embedded Postgres runs in ${area.runs}: ${(error as Error).message}`);
    return;
  }
  await Promise.all(
    names
      .filter((name) => name.startsWith(RUN_PREFIX))
      .map(async (name) => {
        const path = join(area.runs, name);
        try {
          if (!(await isStale(path, area.user))) return;
          log(`removing ${path}, left by an embedded Postgres run that ended without cleaning up`);
          await removeRunDirectory(path, area.user);
        } catch (error) {
          log(`could not remove the stale embedded Postgres run ${path}: ${(error as Error).message}`);
        }
      }),
  );
}

async function isStale(path: string, user: ServerUser): Promise<boolean> {
  const info = await lstat(path).catch(() => undefined); // gone meanwhile: another start removed it
  if (!info?.isDirectory() || info.uid !== user.uid) return false;
  const owner = await readOwnerRecord(path);
  if (owner) return isOwnerGone(owner);
  return Date.now() - info.mtimeMs > UNRECORDED_GRACE_MS && (await runningServer(join(path, 'data'))) === undefined;
}
