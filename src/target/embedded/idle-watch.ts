import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import type { ConnectionInfo } from '../../postgres/connection-string.ts';
import { openClient } from '../../postgres/open-client.ts';
import { tryLockFile } from './reuse-lock.ts';
import { KEEPER_APPLICATION_NAME } from './spare-keeper.ts';

export interface IdleWatchOptions {
  /** The superuser on the server's `postgres` database. */
  readonly admin: ConnectionInfo;
  /** Returns once no client has been connected for this long. */
  readonly idleTimeoutMs: number;
  /** The key's lock (reuse-lock.ts), held while the idle server is made unfindable. */
  readonly lockPath: string;
  /** Makes the server unfindable to the next run (removes its record); runs under the lock. */
  readonly retire: () => Promise<void>;
  /** Ends the watch early (the keeper was told to stop). */
  readonly signal: AbortSignal;
}

/** Why the watch ended: `idle` (retired), `stopped` (the signal), `unreachable` (the server stopped answering). */
export interface WatchEnd {
  readonly ended: 'idle' | 'stopped' | 'unreachable';
  readonly reason: string;
}

/** Polls often enough to stop within a tenth of the timeout past it, and at most every 10 s. */
const MIN_POLL_MS = 100;
const MAX_POLL_MS = 10_000;
/** Polls in a row that find the server unreachable before it is given up as gone. */
const UNREACHABLE_POLLS = 3;

// The keeper's own connections (this one, and the one making spares) are not clients.
const COUNT_CLIENTS = `select count(*)::int as clients from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid() and application_name is distinct from $1`;

/**
 * Watches the server's clients until it has had none for `idleTimeoutMs`, then retires it;
 * also ends when the server stops answering, or `signal` aborts. Resolves with why it ended.
 *
 * A client is any connection but ours, as `pg_stat_activity` lists them: every run holds one
 * from finding the server until it closes (reused-server.ts), so a run between two queries
 * counts too. Idleness is confirmed under the key's lock, the lock a run holds while it finds
 * the server and logs in: either that run's login is counted, or it finds no record and
 * starts a server of its own — never one that is about to stop.
 */
export async function watchUntilIdle(options: IdleWatchOptions): Promise<WatchEnd> {
  const pollMs = Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, Math.round(options.idleTimeoutMs / 10)));
  let lastBusy = Date.now();
  let unreachable = 0;
  let client: pg.Client | undefined;
  try {
    for (;;) {
      await delay(pollMs, undefined, { signal: options.signal }).catch(() => undefined);
      if (options.signal.aborted) return { ended: 'stopped', reason: String(options.signal.reason) };
      let clients: number;
      try {
        client ??= await openClient(options.admin, KEEPER_APPLICATION_NAME);
        clients = await count(client);
        unreachable = 0;
      } catch (error) {
        await client?.end().catch(() => undefined);
        client = undefined;
        if (++unreachable >= UNREACHABLE_POLLS) return { ended: 'unreachable', reason: `the server stopped answering: ${(error as Error).message}` };
        continue;
      }
      if (clients > 0 || Date.now() - lastBusy < options.idleTimeoutMs) {
        if (clients > 0) lastBusy = Date.now();
        continue;
      }
      const lock = await tryLockFile(options.lockPath, 'stopping the idle reused embedded Postgres');
      if (!('held' in lock)) continue; // a run is finding it right now: it will be busy
      try {
        // A failure here is the next poll's to find.
        const clientsNow = await count(client).catch(() => undefined);
        if (clientsNow === 0) {
          await options.retire();
          return { ended: 'idle', reason: `no client for ${options.idleTimeoutMs} ms` };
        }
        if (clientsNow !== undefined) lastBusy = Date.now();
      } finally {
        await lock.held.release();
      }
    }
  } finally {
    await client?.end().catch(() => undefined);
  }
}

async function count(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ clients: number }>(COUNT_CLIENTS, [KEEPER_APPLICATION_NAME]);
  return rows[0]!.clients;
}
