import { Kysely, PostgresAdapter, PostgresDialect, type DatabaseIntrospector, type DialectAdapter } from 'kysely';
import type { Postgres } from '../postgres/connect.ts';
import { acquireMigrationLock, releaseMigrationLock, type LockOptions } from './migration-lock.ts';

/**
 * A Kysely instance on the run's one connection. Kysely's driver expects a pool that lends
 * clients; this "pool" always lends the same client and never ends it: the connection
 * belongs to the run, which closes it in its teardown. Queries go through `Postgres.query`,
 * so a dropped connection surfaces as a DatabaseError here too.
 *
 * The Migrator's lock is ours (see migration-lock.ts): bounded, and it names its holder.
 *
 * Imported on demand (`await import`): loading Kysely costs more than the rest of a run that
 * has nothing to apply.
 */
export function kyselyOn(pg: Postgres, lock: LockOptions = { timeoutMs: 60_000 }): Kysely<any> {
  const lease = {
    query: (text: string, values: unknown[]) => pg.query(text, values),
    release: () => undefined,
    get processID() {
      return (pg.client as unknown as { processID?: number }).processID;
    },
  };
  const pool = { connect: async () => lease, end: async () => undefined };
  const dialect = new PostgresDialect({ pool: pool as never });
  const adapter = new BoundedLockAdapter(pg, lock);
  return new Kysely<any>({
    dialect: {
      createAdapter: (): DialectAdapter => adapter,
      createDriver: () => dialect.createDriver(),
      createQueryCompiler: () => dialect.createQueryCompiler(),
      createIntrospector: (db: Kysely<any>): DatabaseIntrospector => dialect.createIntrospector(db),
    },
  });
}

class BoundedLockAdapter extends PostgresAdapter {
  readonly #pg: Postgres;
  readonly #lock: LockOptions;

  constructor(pg: Postgres, lock: LockOptions) {
    super();
    this.#pg = pg;
    this.#lock = lock;
  }

  // The lock is session-level and the run has one connection: take it there.
  override async acquireMigrationLock(): Promise<void> {
    await acquireMigrationLock(this.#pg, this.#lock);
  }

  override async releaseMigrationLock(): Promise<void> {
    await releaseMigrationLock(this.#pg);
  }
}
