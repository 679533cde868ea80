import { dirname } from 'node:path';
import { KEEPER_STOP_MS, stopKeeper } from './keeper-process.ts';
import { START_WAIT_MS } from './keeper-protocol.ts';
import { lockFile } from './reuse-lock.ts';
import { knownKeys, readReuseRecord, removeReuseRecord, reuseFolder, reusePaths } from './reuse-state.ts';
import { removeRunDirectory } from './run-directory.ts';
import { resolveServerUser } from './server-user.ts';
import { runningServer } from './stop-server.ts';

/** A reused server `stopReusedServers` dealt with. */
export interface StoppedServer {
  /** E.g. `embedded Postgres 16.14.0 on 127.0.0.1:41234`. */
  readonly description: string;
  readonly port: number;
  readonly user: string;
  /** The keeper's pid. */
  readonly pid: number;
  readonly startedAt: string;
  /** `stopped`: it ran and is gone now; `gone`: only its record was left, and is removed. */
  readonly outcome: 'stopped' | 'gone';
}

/**
 * Stops every reused embedded Postgres of the user running this — each under its key's lock,
 * so a run starting or finding it finishes first (a server being started now is stopped once
 * it is) — and removes its record. Its keeper stops
 * the server and deletes the run directory; if the keeper does not answer it is killed, and
 * whatever server it left is stopped here. Resolves with what it found, empty when none ran.
 */
export async function stopReusedServers(options: { readonly onWait?: (what: string) => void } = {}): Promise<StoppedServer[]> {
  const folder = await reuseFolder({ create: false });
  if (folder === undefined) return [];
  const stopped: StoppedServer[] = [];
  for (const key of await knownKeys(folder)) {
    const paths = reusePaths(folder, key);
    const lock = await lockFile(paths.lock, {
      doing: 'stopping the reused embedded Postgres',
      timeoutMs: START_WAIT_MS + KEEPER_STOP_MS,
      onWait: (holder) => options.onWait?.(`pid ${holder.pid}, which is ${holder.doing} (since ${holder.since})`),
    });
    try {
      const record = await readReuseRecord(paths.record);
      if (record === undefined) continue; // stopped meanwhile (idle)
      if (record !== 'unreadable') {
        const ran = await stopKeeper(record.keeper);
        // A keeper killed with SIGKILL leaves the clean-up to its server's supervisor; one
        // that was gone already may have left a server nobody stops.
        if ((await runningServer(record.data)) !== undefined) await removeRunDirectory(dirname(record.data), await resolveServerUser());
        stopped.push({
          description: `embedded Postgres ${record.version} on 127.0.0.1:${record.port}`,
          port: record.port,
          user: record.user,
          pid: record.keeper.pid,
          startedAt: record.startedAt,
          outcome: ran ? 'stopped' : 'gone',
        });
      }
      await removeReuseRecord(paths);
    } finally {
      await lock.release();
    }
  }
  return stopped;
}
