import type { Socket } from 'node:net';
import type { Postgres } from '../postgres/connect.ts';
import { ENV } from './provided.ts';

/*
 * The connection a test worker keeps for `resetDatabase()`. Connecting (TCP, then SCRAM's
 * key derivation) costs about as much as a reset, and tests reset often, so the first reset
 * connects and later ones reuse it. A worker runs one test file at a time, so one connection
 * is kept: to the database of the file that reset last; another file's database replaces it.
 *
 * It must never keep a worker alive, so its socket is unref'd: the runner's own channel keeps
 * the worker alive while a test awaits a reset, and when the worker is done the connection
 * goes with it. Jest's environment closes it at the end of each file; a clone dropped WITH
 * (FORCE), or a server stopped, ends it from the other side, and the next reset connects anew.
 *
 * Kept on globalThis: Vitest may load this module twice (inlined and from dist).
 */
const KEY = Symbol.for('e2e-migrations.kept-connection');

interface Kept {
  readonly url: string;
  readonly pg: Promise<Postgres>;
}

function holder(): { [KEY]?: Kept } {
  return globalThis as { [KEY]?: Kept };
}

/** The kept connection to `url` (with the password: never print it), opened on first use. */
export async function keptConnection(url: string): Promise<Postgres> {
  const kept = holder()[KEY];
  if (kept?.url === url) {
    const pg = await kept.pg.catch(() => undefined);
    if (pg && !pg.lost) return pg;
    if (holder()[KEY] === kept) delete holder()[KEY];
    return keptConnection(url);
  }
  if (kept) void closeKept(kept);
  const opening = open(url);
  const entry: Kept = { url, pg: opening };
  holder()[KEY] = entry;
  opening.catch(() => {
    if (holder()[KEY] === entry) delete holder()[KEY];
  });
  return opening;
}

/** Closes the kept connection, if any (Jest's environment, at the end of each test file). */
export async function closeKeptConnection(): Promise<void> {
  const kept = holder()[KEY];
  if (!kept) return;
  delete holder()[KEY];
  await closeKept(kept);
}

async function open(url: string): Promise<Postgres> {
  // pg and the URL parser only once a test resets: every test file's setup loads this module.
  const [{ connect }, { parseConnectionString }] = await Promise.all([import('../postgres/connect.ts'), import('../postgres/connection-string.ts')]);
  const pg = await connect(parseConnectionString(url, { key: ENV.databaseUrl }), 'e2e-migrations reset');
  (pg.client.connection.stream as Partial<Socket>).unref?.();
  return pg;
}

async function closeKept(kept: Kept): Promise<void> {
  const pg = await kept.pg.catch(() => undefined); // a connection that never opened needs no close
  await pg?.close();
}
