import type { Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely/migration';
import { MigrationError } from '../errors/errors.ts';
import type { LoadedMigration, MigrationSet } from './loaded-migration.ts';
import { LEDGER_LOCK_TABLE, LEDGER_TABLE, forgetChecksum, readLedger, recordChecksum, type LedgerEntry } from './ledger.ts';
import { migrationFailure } from './migration-failure.ts';
import type { PartitionWindow } from './migration-module.ts';

export const DEFAULT_PARTITION_WINDOW: PartitionWindow = Object.freeze({ monthsBack: 1, monthsAhead: 3 });

export interface MigrateOptions {
  /** The clock for calendar work (partitions). @default new Date() */
  readonly now?: Date;
  /** @default { monthsBack: 1, monthsAhead: 3 } */
  readonly partitions?: PartitionWindow;
  /** Told about each migration as it is applied. */
  readonly onApplied?: (name: string) => void;
}

export interface MigrateResult {
  /** Migrations this run applied, in order. */
  readonly applied: readonly string[];
  /** Migrations of the selection that were applied before (by this or another process). */
  readonly alreadyApplied: readonly string[];
  /** Relations the selection covers. */
  readonly tables: readonly string[];
}

/**
 * Applies the planned migrations that the ledger does not have, one Kysely `migrateUp` per
 * migration: each runs in its own transaction together with its ledger row and checksum,
 * under Kysely's advisory lock, so parallel runs apply each migration exactly once. Then
 * runs every planned migration's `maintain` step. Stops before applying anything when an
 * applied migration has changed (drift).
 */
export async function migrate(db: Kysely<any>, set: MigrationSet, plan: readonly LoadedMigration[], options: MigrateOptions = {}): Promise<MigrateResult> {
  const ledger = await readLedger(db);
  assertNoDrift(set, ledger);
  const known = byName(set);
  const applied: string[] = [];
  const alreadyApplied: string[] = [];
  for (const migration of plan) {
    if (ledger.has(migration.name)) {
      alreadyApplied.push(migration.name);
      continue;
    }
    const result = await step(db, known, migration, (migrator) => migrator.migrateUp({ disableTransactions: !migration.transactional }));
    if (result.results?.some((r) => r.migrationName === migration.name && r.status === 'Success')) {
      applied.push(migration.name);
      options.onApplied?.(migration.name);
    } else {
      alreadyApplied.push(migration.name); // another process got there first
    }
  }
  const context = Object.freeze({ now: options.now ?? new Date(), partitions: options.partitions ?? DEFAULT_PARTITION_WINDOW });
  for (const migration of plan) {
    if (!migration.maintain) continue;
    try {
      await migration.maintain(db, context);
    } catch (error) {
      throw new MigrationError(`maintenance of migration "${migration.name}" failed: ${(error as Error).message}`, { migration: migration.name, file: migration.file }, { cause: error });
    }
  }
  return Object.freeze({ applied, alreadyApplied, tables: plan.flatMap((m) => m.tables) });
}

export interface RollbackOptions {
  /** Roll back everything applied after this migration, which stays. @default undefined: roll back all */
  readonly to?: string;
  readonly onRolledBack?: (name: string) => void;
}

/**
 * Runs `down` of applied migrations in reverse order of application, each in its own
 * transaction with its ledger row. Stops at a migration that another source applied.
 */
export async function rollback(db: Kysely<any>, set: MigrationSet, options: RollbackOptions = {}): Promise<readonly string[]> {
  const known = byName(set);
  const ledger = await readLedger(db);
  assertNoDrift(set, ledger);
  if (options.to !== undefined && !ledger.has(options.to)) {
    const applied = [...ledger.keys()];
    throw new MigrationError(
      `cannot roll back to "${options.to}": it is not applied (applied: ${applied.length ? applied.join(', ') : 'none'})`,
      { migration: options.to },
    );
  }
  const order = [...ledger.keys()];
  const stopAt = options.to === undefined ? -1 : order.indexOf(options.to);
  const rolledBack: string[] = [];
  for (const name of order.slice(stopAt + 1).reverse()) {
    const migration = known.get(name);
    if (!migration) {
      throw new MigrationError(`cannot roll back "${name}": it was applied from another migrations directory; roll it back from there first`, { migration: name });
    }
    await step(db, known, migration, (migrator) => migrator.migrateDown({ disableTransactions: !migration.transactional }));
    rolledBack.push(name);
    options.onRolledBack?.(name);
  }
  return rolledBack;
}

/** Fails when an applied migration's checksum differs from its file's, naming each one. */
export function assertNoDrift(set: MigrationSet, ledger: ReadonlyMap<string, LedgerEntry>): void {
  const drifted = set.migrations.filter((m) => {
    const entry = ledger.get(m.name);
    return entry?.checksum !== undefined && entry.checksum.trim() !== m.checksum;
  });
  if (drifted.length === 0) return;
  const first = drifted[0]!;
  throw new MigrationError(
    `migration${drifted.length === 1 ? '' : 's'} ${drifted.map((m) => `"${m.name}"`).join(', ')} changed after being applied ` +
      `(checksum in the ledger ${ledger.get(first.name)?.checksum?.slice(0, 12)}…, in ${first.file} ${first.checksum.slice(0, 12)}…); ` +
      'never edit an applied migration: restore it and add a new migration, or recreate the database',
    { migration: first.name, file: first.file },
  );
}

/**
 * One Kysely Migrator call. The provider is consulted inside Kysely's lock, so it reads the
 * ledger then and offers exactly the applied migrations plus the one to run: that is what
 * makes selective runs of different services compose, whatever order they ran in.
 */
async function step(
  db: Kysely<any>,
  known: ReadonlyMap<string, LoadedMigration>,
  target: LoadedMigration,
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
    const failed = result.results?.find((r) => r.status === 'Error');
    const migration = (failed && known.get(failed.migrationName)) ?? target;
    throw migrationFailure(failed?.direction === 'Down' ? 'roll back' : 'apply', migration, result.error);
  }
  return result;
}

function byName(set: MigrationSet): ReadonlyMap<string, LoadedMigration> {
  return new Map(set.migrations.map((m) => [m.name, m]));
}

function asKysely(migration: LoadedMigration): Migration {
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

function foreign(name: string): LoadedMigration {
  const refuse = async (): Promise<never> => {
    throw new MigrationError(`migration "${name}" belongs to another migrations directory`, { migration: name });
  };
  return { name, file: '(another migrations directory)', tables: [], dependsOn: [], checksum: '', transactional: true, up: refuse, down: refuse };
}
