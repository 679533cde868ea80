import type { Kysely } from 'kysely';
import { providedFromEnv, type ProvidedDatabase } from '../../provide/provided.ts';
import { leaseFileDatabase } from './file-lease.ts';
import type { Database } from '../../schema/ds-v1.ts';
import './types.ts';

/*
 * Helpers for test files (they run in Vitest's workers). This module is also what a Vitest
 * config imports (for the block's types) and names in `globalSetup`, so it stays cheap in
 * Vitest's main process: the test API ('vitest') is loaded only inside a worker, where it is
 * loaded already, and kysely and pg only when a helper that uses them is called.
 */
const runtime = process.env.VITEST_WORKER_ID !== undefined ? await import('vitest') : undefined;

/** What the global setup provided; throws a clear error when it did not run. */
export function providedDatabase(): ProvidedDatabase {
  let provided: ProvidedDatabase | undefined;
  try {
    provided = runtime?.inject('e2eMigrations');
  } catch {
    // outside a Vitest worker: fall back to the environment
  }
  provided ??= providedFromEnv();
  if (!provided) {
    throw new Error('e2e-migrations: no database was provided; add "e2e-migrations/vitest" to test.globalSetup and a test.migrations block to the Vitest config');
  }
  return provided;
}

const testPath = (): string => runtime?.expect.getState().testPath ?? '';

/**
 * The URL this test file should use: the shared database, or with `isolate: 'file'` this
 * file's own clone of the template, leased from the run on first call (database-leases.ts).
 * Also points `DATABASE_URL` at it, for code under test that reads the environment. Holds
 * the password: do not print it.
 */
export async function databaseUrl(): Promise<string> {
  const provided = providedDatabase();
  if (!provided.isolate) return provided.url;
  return leaseFileDatabase({ ...provided, isolate: provided.isolate }, testPath());
}

export interface TestDatabaseOptions {
  /** @default 4 */
  readonly poolSize?: number;
}

/**
 * A Kysely client typed with the shipped schema (`Database` of ds-v1), on the injected
 * database or this file's clone. The caller closes it: `await using db = await testDatabase()`.
 *
 * @example
 * ```ts
 * await using db = await testDatabase();
 * await db.insertInto('audit_events').values({ event_date: '2025-01-15', ... }).execute();
 * ```
 */
export async function testDatabase<DB = Database>(options: TestDatabaseOptions = {}): Promise<Kysely<DB>> {
  const [{ Kysely, PostgresDialect }, { default: pg }] = await Promise.all([import('kysely'), import('pg')]);
  const pool = new pg.Pool({ connectionString: await databaseUrl(), max: options.poolSize ?? 4, application_name: 'e2e-migrations test' });
  // A clone dropped WITH (FORCE) at teardown terminates idle clients: not a test failure.
  pool.on('error', () => {});
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}
