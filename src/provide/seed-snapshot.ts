import { DatabaseError } from '../errors/errors.ts';
import type { Postgres } from '../postgres/connect.ts';
import { CAPTURE_FUNCTION, INSTALL_SQL, SEED_LOCK_KEY, SEED_SCHEMA } from './seed-sql.ts';

/** What `captureSeed` did. */
export interface SeedCapture {
  /** Tables captured now (schema-qualified when outside the search path); those captured before are kept. */
  readonly captured: readonly string[];
  /** Of those, the ones that held rows (seed rows), copied into the snapshot. */
  readonly seeded: readonly string[];
  /**
   * Set when the user may not create the snapshot's schema: no snapshot was taken, the run goes
   * on, and `resetDatabase()` on this database says why it cannot reset.
   */
  readonly skipped?: string;
}

/**
 * Records what migrating left in `tables` of `pg`'s database — their rows and the values of
 * their sequences — in the schema `e2e_migrations_seed`, for `resetDatabase()` to restore.
 * Call it right after migrating, on the database tests will use (or on the template their
 * databases are cloned from).
 *
 * A table is captured once, the first time it is seen (by oid): a database that tests already
 * wrote to (a URL target reused across runs) keeps the snapshot of its first run, and a table
 * dropped and created again (a rollback, then apply) is captured anew. Runs in one transaction
 * under an advisory lock, so parallel setups on one database capture once. Views and names
 * that are no table of the current schema are passed over.
 *
 * @example
 * ```ts
 * const migrations = await session.migrate(pg);
 * await captureSeed(pg, migrations.tables);
 * ```
 */
export async function captureSeed(pg: Postgres, tables: readonly string[]): Promise<SeedCapture> {
  try {
    await pg.query('begin');
    await pg.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [SEED_LOCK_KEY]);
    await pg.query(INSTALL_SQL);
    const { rows } = await pg.query<{ result: { captured: string[]; seeded: string[] } }>(`select ${CAPTURE_FUNCTION}($1::text[]) as result`, [tables]);
    await pg.query('commit');
    const result = rows[0]!.result;
    return Object.freeze({ captured: Object.freeze(result.captured), seeded: Object.freeze(result.seeded) });
  } catch (error) {
    await pg.query('rollback').catch(() => undefined); // the failure is the one to report
    const { connection } = pg;
    if ((error as { code?: string }).code === '42501') {
      // Not ours to demand: the run never needed the snapshot before resetDatabase() existed.
      return Object.freeze({
        captured: Object.freeze([]),
        seeded: Object.freeze([]),
        skipped: `no snapshot for resetDatabase(): user "${connection.user}" may not create the schema ${SEED_SCHEMA} in database "${connection.database}" (${(error as Error).message})`,
      });
    }
    throw new DatabaseError(
      `could not take the seed snapshot (${SEED_SCHEMA}) in database "${connection.database}" on ${connection.host}:${connection.port}: ${(error as Error).message}`,
      { host: connection.host, port: connection.port, database: connection.database, user: connection.user },
      { cause: error },
    );
  }
}
