import { leaseDatabase } from '../../provide/lease-database.ts';
import { ENV } from '../../provide/provided.ts';

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

/** The leased clone's URL (with the password: never print it) and database. */
export interface ProcessLease {
  readonly url: string;
  readonly database: string;
}

/** This process's lease, when worker-preload.ts took one; undefined in any other process. */
export function processLease(): ProcessLease | undefined {
  return (globalThis as { [KEY]?: ProcessLease })[KEY];
}

/**
 * Leases this worker process's clone and points DATABASE_URL (and E2E_MIGRATIONS_URL /
 * _DATABASE) at it; nothing when the environment names no lease (not a worker of an isolating
 * project). Rejects with the run's reason when there is no clone to be had.
 */
export async function leaseForProcess(env: NodeJS.ProcessEnv = process.env): Promise<ProcessLease | undefined> {
  const address = env[ENV.leases];
  const base = env[ENV.leaseUrl];
  if (!address || !base) return undefined;
  // The lease is never released by hand: the connection closes when the process exits.
  const { database } = await leaseDatabase(address, `a Vitest worker (pid ${process.pid})`);
  const parsed = new URL(base);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  const lease: ProcessLease = Object.freeze({ url: parsed.toString(), database });
  env[ENV.databaseUrl] = lease.url;
  env[ENV.url] = lease.url;
  env[ENV.database] = database;
  (globalThis as { [KEY]?: ProcessLease })[KEY] = lease;
  return lease;
}
