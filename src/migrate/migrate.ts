import { MigrationError } from '../errors/errors.ts';
import type { Postgres } from '../postgres/connect.ts';
import { readLedger, type LedgerEntry } from './ledger.ts';
import type { LockOptions } from './migration-lock.ts';
import type { LoadedMigration, MigrationSet } from './loaded-migration.ts';
import type { PartitionWindow } from './migration-module.ts';
import { ensureMonthlyPartitions } from './monthly-partitions.ts';

export interface MigrateOptions {
  /** The clock for calendar work (partitions). */
  readonly now: Date;
  readonly partitions: PartitionWindow;
  /** Told before each migration is applied, so progress can name it. */
  readonly onApplying?: (migration: LoadedMigration) => void;
  /** How long to wait for another run's lock, and who to tell who holds it. */
  readonly lock?: LockOptions;
}

export interface MigrateResult {
  /** Migrations this run applied, in order. */
  readonly applied: readonly string[];
  /** Migrations of the selection that were applied before (by this or another process). */
  readonly alreadyApplied: readonly string[];
  /** Relations the selection covers. */
  readonly tables: readonly string[];
  /** Monthly partitions this run created. */
  readonly partitionsCreated: readonly string[];
}

/**
 * Applies the planned migrations that the ledger lacks, then keeps the planned migrations'
 * monthly partitions rolling and runs their `maintain` steps. Stops before applying anything
 * when an applied migration has changed (drift).
 *
 * When everything is applied this is two small queries on the run's connection: the
 * Migrator (and Kysely with it) is loaded only when there is something to apply.
 */
export async function migrate(pg: Postgres, set: MigrationSet, plan: readonly LoadedMigration[], options: MigrateOptions): Promise<MigrateResult> {
  const ledger = await readLedger(pg);
  assertNoDrift(set, ledger);
  const pending = plan.filter((migration) => !ledger.has(migration.name));
  let applied: string[] = [];
  if (pending.length > 0) {
    const { applyPending } = await import('./migrator-steps.ts');
    applied = await applyPending(pg, set, pending, options.onApplying, options.lock);
  }
  const done = new Set(applied);
  const partitionsCreated: string[] = [];
  for (const migration of plan) {
    for (const table of migration.monthlyPartitions) {
      try {
        partitionsCreated.push(...(await ensureMonthlyPartitions(pg, { table, now: options.now, ...options.partitions })));
      } catch (error) {
        throw maintenanceFailure(migration, error);
      }
    }
  }
  const maintained = plan.filter((migration) => migration.maintain);
  if (maintained.length > 0) {
    const { kyselyOn } = await import('./kysely-on.ts');
    const db = kyselyOn(pg);
    const context = Object.freeze({ now: options.now, partitions: options.partitions });
    for (const migration of maintained) {
      try {
        await migration.maintain!(db, context);
      } catch (error) {
        throw maintenanceFailure(migration, error);
      }
    }
  }
  return Object.freeze({
    applied: Object.freeze(applied),
    alreadyApplied: Object.freeze(plan.filter((m) => !done.has(m.name)).map((m) => m.name)),
    tables: Object.freeze(plan.flatMap((m) => m.tables)),
    partitionsCreated: Object.freeze(partitionsCreated),
  });
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
export async function rollback(pg: Postgres, set: MigrationSet, options: RollbackOptions = {}): Promise<readonly string[]> {
  const ledger = await readLedger(pg);
  assertNoDrift(set, ledger);
  if (options.to !== undefined && !ledger.has(options.to)) {
    const applied = [...ledger.keys()];
    throw new MigrationError(`cannot roll back to "${options.to}": it is not applied (applied: ${applied.length ? applied.join(', ') : 'none'})`, { migration: options.to });
  }
  const order = [...ledger.keys()];
  const names = order.slice(options.to === undefined ? 0 : order.indexOf(options.to) + 1).reverse();
  if (names.length === 0) return [];
  const { rollBack } = await import('./migrator-steps.ts');
  await rollBack(pg, set, names, options.onRolledBack);
  return Object.freeze(names);
}

/** Fails when an applied migration's checksum differs from its file's, naming each one. */
export function assertNoDrift(set: MigrationSet, ledger: ReadonlyMap<string, LedgerEntry>): void {
  const drifted = set.migrations.filter((m) => {
    const entry = ledger.get(m.name);
    return entry?.checksum !== undefined && entry.checksum !== m.checksum;
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

function maintenanceFailure(migration: LoadedMigration, error: unknown): Error {
  if (error instanceof Error && error.name === 'DatabaseError') return error;
  return new MigrationError(`maintenance of migration "${migration.name}" failed: ${(error as Error).message}`, { migration: migration.name, file: migration.file }, { cause: error });
}
