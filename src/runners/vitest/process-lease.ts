import { DatabaseError } from '../../errors/errors.ts';
import { leaseDatabase } from '../../provide/lease-database.ts';
import { ENV, pointEnvAt, urlWithDatabase } from '../../provide/provided.ts';

/*
 * The lease of a Vitest worker process that runs one test file: Vitest's default (the `forks`
 * pool, `isolate: true`) starts a process per file. Such a process leases its clone the moment
 * it starts, before Vitest has loaded anything in it (worker-preload.ts, by `--import`), so the
 * round trip overlaps the process's own start and the file needs no per-file setup file — which
 * alone costs about 8 ms a file in Vitest. It holds the lease until it exits: the operating
 * system closes the connection, and the run puts the clone back for the next file.
 *
 * Vitest sets the project's `env` again in the worker before each file, so the global setup
 * leaves DATABASE_URL, E2E_MIGRATIONS_URL and E2E_MIGRATIONS_DATABASE out of it for such a
 * project, and passes the run's URL as E2E_MIGRATIONS_LEASE_URL, for the lease to complete.
 *
 * Kept on globalThis: the helpers read it from modules that Vite may load as a second instance.
 */
const KEY = Symbol.for('e2e-migrations.vitest.process-lease');
const HELD = Symbol('the lease');
/** Who asks, in the run's messages: the worker knows no more of its file yet. */
const WHO = 'this test file';

/**
 * Where DATABASE_URL points when no clone could be had: a host under `.invalid`, which never
 * resolves (RFC 6761). The file's connections fail, naming it, rather than reach any other
 * database — one on localhost:5432, say, which an unset DATABASE_URL would leave pg to try.
 */
export const NO_CLONE_URL = 'postgres://no-clone-for-this-test-file.e2e-migrations.invalid/no_clone';

/** The leased clone's URL (with the password: never print it) and database; or why there is none. */
export type ProcessLease = { readonly url: string; readonly database: string } | { readonly error: Error };

/** This process's lease, when worker-preload.ts took one (or failed to); undefined in any other process. */
export function processLease(): ProcessLease | undefined {
  return (globalThis as { [KEY]?: ProcessLease })[KEY];
}

/**
 * Leases this worker process's clone and points DATABASE_URL (and E2E_MIGRATIONS_URL /
 * _DATABASE) at it; nothing when the environment names no lease (not a worker of an isolating
 * project). Never rejects: without a clone it points them at NO_CLONE_URL and returns why.
 */
export async function leaseForProcess(env: NodeJS.ProcessEnv = process.env): Promise<ProcessLease | undefined> {
  const address = env[ENV.leases];
  const base = env[ENV.leaseUrl];
  if (!address || !base) return undefined;
  const holder = globalThis as { [KEY]?: ProcessLease; [HELD]?: unknown };
  let lease: ProcessLease;
  try {
    // Never released by hand: the connection closes when the process exits. Held from
    // globalThis all the same, so that nothing could ever collect the socket that is the lease.
    const held = await leaseDatabase(address, WHO);
    holder[HELD] = held;
    lease = Object.freeze({ url: urlWithDatabase(base, held.database), database: held.database });
  } catch (error) {
    // The run's own refusals say "no database for this test file: …" already; a run out of reach does not.
    const message = (error as Error).message;
    lease = Object.freeze({ error: message.startsWith(`no database for ${WHO}`) ? (error as Error) : new DatabaseError(`no database for ${WHO}: ${message}`, {}, { cause: error }) });
  }
  if ('url' in lease) pointEnvAt(env, lease.url, lease.database);
  else pointEnvAt(env, NO_CLONE_URL);
  holder[KEY] = lease;
  return lease;
}
