import { closeKeptConnection } from '../../provide/kept-connection.ts';
import { leaseDatabase } from '../../provide/lease-database.ts';
import { pointEnvAt, urlWithDatabase, type ProvidedDatabase } from '../../provide/provided.ts';
import { processLease } from './process-lease.ts';

/*
 * A Vitest test file's lease of its clone (`isolate: 'file'`), shared by the per-file setup
 * and the helpers; a worker process that runs one file has leased at its start instead
 * (process-lease.ts), and this hands that out. Test workers load this, so it imports only
 * what a lease needs (node:net, our error and env names); no pg, no URL parser.
 *
 * Kept on globalThis by file path: the setup file and the test file may load these modules as
 * two instances (one inlined by Vite, one external from dist), and a module-level map would
 * then lease twice.
 */
const KEY = Symbol.for('e2e-migrations.vitest.leases');

interface FileLease {
  readonly url: string;
  release(): Promise<void>;
}

function leases(): Map<string, Promise<FileLease>> {
  const holder = globalThis as { [KEY]?: Map<string, Promise<FileLease>> };
  return (holder[KEY] ??= new Map());
}

/**
 * The URL of `file`'s clone, leased from the run on first call; points `DATABASE_URL` (and
 * E2E_MIGRATIONS_URL / _DATABASE) at it, for code under test that reads the environment.
 * Holds the password: never print it.
 */
export async function leaseFileDatabase(provided: ProvidedDatabase & { isolate: NonNullable<ProvidedDatabase['isolate']> }, file: string): Promise<string> {
  // A worker that runs this one file leased its clone as it started (worker-preload.ts).
  const leasedAtStart = processLease();
  if (leasedAtStart && 'error' in leasedAtStart) throw leasedAtStart.error;
  if (leasedAtStart) return leasedAtStart.url;
  let lease = leases().get(file);
  if (!lease) {
    lease = leaseDatabase(provided.isolate.leases, file || 'a test file').then(({ database, release }) => {
      const url = urlWithDatabase(provided.url, database);
      pointEnvAt(process.env, url, database);
      return { url, release };
    });
    leases().set(file, lease);
  }
  return (await lease).url;
}

/**
 * Gives `file`'s clone back to the run, which resets it for the next file; closes the
 * connection resetDatabase() kept to it first. Nothing to do for a file that leased none, nor
 * for a worker that leased at start (its exit gives the clone back).
 */
export async function releaseFileDatabase(file: string): Promise<void> {
  const lease = leases().get(file);
  if (!lease) return;
  leases().delete(file);
  await closeKeptConnection();
  await (await lease.catch(() => undefined))?.release();
}
