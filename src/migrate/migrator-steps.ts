import { sql, type Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely/migration';
import { MigrationError } from '../errors/errors.ts';
import { connectionLost, isConnectionError, type Postgres } from '../postgres/connect.ts';
import { kyselyOn } from './kysely-on.ts';
import type { LockOptions } from './migration-lock.ts';
import { CHECKSUM_TABLE, LEDGER_LOCK_TABLE, LEDGER_TABLE } from './ledger.ts';
import type { KyselyMigration, KyselySet } from './loaded-migration.ts';
import { migrationFailure } from './migration-failure.ts';

/*
 * The steps that change the ledger, through Kysely's Migrator. Loaded on demand: only a run
 * with something to apply or roll back pays for Kysely.
 */

/**
 * Applies each pending migration with its own Migrator call: each runs in its own transaction
 * together with its ledger row and checksum, under Kysely's lock. Returns the names this run
 * applied; a migration another process applied meanwhile is not among them.
 */
export async function applyPending(
  pg: Postgres,
  set: KyselySet,
  pending: readonly KyselyMigration[],
  onApplying?: (migration: KyselyMigration) => void,
  lock?: LockOptions,
): Promise<string[]> {
  const db = kyselyOn(pg, lock);
  const known = byName(set);
  const applied: string[] = [];
  for (const migration of pending) {
    onApplying?.(migration);
    const result = await step(pg, db, known, migration, (migrator) => migrator.migrateUp({ disableTransactions: !migration.transactional }));
    if (result.results?.some((r) => r.migrationName === migration.name && r.status === 'Success')) applied.push(migration.name);
  }
  return applied;
}

/** Rolls back `names` (newest first) with their `down`, each in its own transaction. */
export async function rollBack(pg: Postgres, set: KyselySet, names: readonly string[], onRolledBack?: (name: string) => void, lock?: LockOptions): Promise<void> {
  const db = kyselyOn(pg, lock);
  const known = byName(set);
  for (const name of names) {
    const migration = known.get(name);
    if (!migration) {
      throw new MigrationError(`cannot roll back "${name}": it was applied from another migrations directory; roll it back from there first`, { migration: name });
    }
    await step(pg, db, known, migration, (migrator) => migrator.migrateDown({ disableTransactions: !migration.transactional }));
    onRolledBack?.(name);
  }
}

/**
 * One Kysely Migrator call. The provider is consulted inside Kysely's lock, so it reads the
 * ledger then and offers exactly the applied migrations plus the one to run: that is what
 * makes selective runs of different services compose, whatever order they ran in.
 */
async function step(
  pg: Postgres,
  db: Kysely<any>,
  known: ReadonlyMap<string, KyselyMigration>,
  target: KyselyMigration,
  run: (migrator: Migrator) => Promise<MigrationResultSet>,
): Promise<MigrationResultSet> {
  const provider: MigrationProvider = {
    async getMigrations() {
      const executed = await db.selectFrom(LEDGER_TABLE).select('name').execute();
      const offered: Record<string, Migration> = {};
      for (const { name } of executed) offered[name] = asKysely(known.get(name) ?? foreign(name));
      offered[target.name] = asKysely(target);
      return offered;
    },
  };
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: LEDGER_TABLE,
    migrationLockTableName: LEDGER_LOCK_TABLE,
    allowUnorderedMigrations: true,
  });
  const result = await run(migrator);
  if (result.error !== undefined) {
    // A dropped connection is not the migration's fault: say so, naming the server.
    if (pg.lost || isConnectionError(result.error)) throw pg.lost ?? connectionLost(pg.connection, result.error as Error);
    const failed = result.results?.find((r) => r.status === 'Error');
    const migration = (failed && known.get(failed.migrationName)) ?? target;
    throw migrationFailure(failed?.direction === 'Down' ? 'roll back' : 'apply', migration, result.error);
  }
  return result;
}

function byName(set: KyselySet): ReadonlyMap<string, KyselyMigration> {
  return new Map(set.migrations.map((m) => [m.name, m]));
}

function asKysely(migration: KyselyMigration): Migration {
  return {
    up: async (db) => {
      await migration.up(db);
      await recordChecksum(db, migration.name, migration.checksum);
    },
    down: async (db) => {
      await migration.down(db);
      await forgetChecksum(db, migration.name);
    },
  };
}

function foreign(name: string): KyselyMigration {
  const refuse = async (): Promise<never> => {
    throw new MigrationError(`migration "${name}" belongs to another migrations directory`, { migration: name });
  };
  return { name, file: '(another migrations directory)', tables: [], dependsOn: [], monthlyPartitions: [], checksum: '', transactional: true, up: refuse, down: refuse };
}

/** Records a migration's checksum inside the migration's own transaction. */
async function recordChecksum(db: Kysely<any>, name: string, checksum: string): Promise<void> {
  await db.schema
    .createTable(CHECKSUM_TABLE)
    .ifNotExists()
    .addColumn('name', 'varchar(255)', (col) => col.primaryKey())
    .addColumn('checksum', 'char(64)', (col) => col.notNull())
    .addColumn('applied_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db
    .insertInto(CHECKSUM_TABLE)
    .values({ name, checksum })
    .onConflict((oc) => oc.column('name').doUpdateSet({ checksum, applied_at: sql`now()` }))
    .execute();
}

/** Forgets a migration's checksum inside the transaction of its `down`. */
async function forgetChecksum(db: Kysely<any>, name: string): Promise<void> {
  const { rows } = await sql<{ t: string | null }>`select to_regclass(${CHECKSUM_TABLE})::text as t`.execute(db);
  if (rows[0]?.t) await db.deleteFrom(CHECKSUM_TABLE).where('name', '=', name).execute();
}
