import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from 'pg';
import { DatabaseError } from '../../errors/errors.ts';
import type { ConnectionInfo } from '../../postgres/connection-string.ts';

const POLL_MS = 50;
const CONNECT_TIMEOUT_MS = 2_000;

export interface AwaitLoginOptions {
  /** Milliseconds to wait for a login, from now. */
  readonly timeoutMs: number;
  /** Settles when the server has exited: there is nothing left to wait for. */
  readonly gone: Promise<unknown>;
  readonly signal?: AbortSignal;
}

/**
 * Waits until the server at `connection` accepts a login of its superuser (a listening port
 * is not enough: "the database system is starting up" comes after it), polling every POLL_MS.
 * Returns the logged-in client, or undefined when the server exited first (its output says
 * why). Rejects with a DatabaseError at the deadline, or with the signal's reason.
 */
export async function awaitLogin(connection: ConnectionInfo, options: AwaitLoginOptions): Promise<Client | undefined> {
  const { default: pg } = await import('pg');
  let exited = false;
  void options.gone.then(() => (exited = true));
  const deadline = Date.now() + options.timeoutMs;
  let last: unknown;
  for (;;) {
    options.signal?.throwIfAborted();
    if (exited) return undefined;
    const { host, port, user, password, database } = connection;
    const client = new pg.Client({ host, port, user, password, database, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'e2e-migrations' });
    // pg emits `error` when the connection ends outside a query; unheard, it kills the process.
    client.on('error', (error) => (last = error));
    try {
      await client.connect();
      return client;
    } catch (error) {
      last = error;
      await client.end().catch(() => undefined); // it never connected: nothing to close cleanly
    }
    if (Date.now() >= deadline) {
      throw new DatabaseError(
        `the embedded Postgres on ${connection.host}:${connection.port} did not accept a login within ${options.timeoutMs} ms: ${(last as Error).message}`,
        { host: connection.host, port: connection.port, database: connection.database, user: connection.user },
        { cause: last },
      );
    }
    await Promise.race([delay(POLL_MS, undefined, { signal: options.signal }), options.gone]);
  }
}
