import { ConfigError, MigrationError } from '../errors/errors.ts';
import type { Postgres } from '../postgres/connect.ts';
import { readApplied, type AppliedState } from './applied.ts';
import type { LockOptions } from './migration-lock.ts';
import { isGoose, type GooseSet, type KyselyMigration, type LoadedMigration, type MigrationSet } from './loaded-migration.ts';
import type { PartitionWindow } from './migration-module.ts';
import { assertRangePartitioned, ensureMonthlyPartitions } from './monthly-partitions.ts';
import { relationsLeft, type RelationsLeft } from './relations.ts';

export interface MigrateOptions {
  /** The clock for calendar work (partitions). */
  readonly now: Date;
  readonly partitions: PartitionWindow;
  /** Told before each migration is applied, so progress can name it. */
  readonly onApplying?: (migration: LoadedMigration) => void;
  /** How long to wait for another run's lock, and who to tell who holds it. */
  readonly lock?: LockOptions;
  /**
   * goose: apply a never-applied version below the newest applied one instead of refusing it
   * (goose's `-allow-missing`). Kysely sets have no order to keep. @default false
   */
  readonly allowMissing?: boolean;
  /**
   * The tables the caller declared. A Kysely plan was selected from them; a goose directory is
   * applied whole, and then each must be among the relations it leaves (a ConfigError lists
   * those it does leave). @default []
   */
  readonly tables?: readonly string[];
  /**
   * Further tables whose monthly range partitions to keep rolling, whatever the source (the
   * block's `partitions.tables`), named as their partitions already are. Each must be a
   * range-partitioned table once the plan is applied. @default []
   */
  readonly partitionTables?: readonly string[];
}

export interface MigrateResult {
  /** Migrations this run applied, in order. */
  readonly applied: readonly string[];
  /** Migrations of the selection that were applied before (by this or another process). */
  readonly alreadyApplied: readonly string[];
  /**
   * Relations the selection covers: the tables a Kysely plan declares; for a goose directory,
   * those recorded after its newest applied migration (empty when that one was applied by
   * goose itself, which records none).
   */
  readonly tables: readonly string[];
  /** Monthly partitions this run created. */
  readonly partitionsCreated: readonly string[];
}

/**
 * Applies the planned migrations that the ledger lacks, then keeps monthly partitions rolling
 * (the plan's declared ones and `partitionTables`) and runs the `maintain` steps. Stops before
 * applying anything when an applied migration has changed (drift).
 *
 * When everything is applied this is a few small queries on the run's connection: Kysely's
 * Migrator (and Kysely with it) is loaded only when a Kysely set has something to apply; a
 * goose directory is applied with plain SQL (goose/goose-steps.ts) and never loads it.
 */
export async function migrate(pg: Postgres, set: MigrationSet, plan: readonly LoadedMigration[], options: MigrateOptions): Promise<MigrateResult> {
  let state = await readApplied(pg, set);
  assertNoDrift(set, state);
  const pending = plan.filter((migration) => !state.of(migration));
  let applied: string[] = [];
  // A database whose goose versions only our ledger knows (e2e-migrations 0.1.0 wrote no
  // goose_db_version) gets goose's table too, or `goose up` would run every file again.
  const gooseUnaware = set.kind === 'goose' && !state.present.goose && state.applied.length > 0;
  if ((pending.length > 0 || gooseUnaware) && set.kind === 'goose') {
    const { applyGoose } = await import('./goose/goose-steps.ts');
    applied = await applyGoose(pg, set, pending.filter(isGoose), {
      allowMissing: options.allowMissing ?? false,
      ...(options.onApplying ? { onApplying: options.onApplying } : {}),
      ...(options.lock ? { lock: options.lock } : {}),
    });
    state = await readApplied(pg, set);
  } else if (pending.length > 0 && set.kind === 'kysely') {
    const { applyPending } = await import('./migrator-steps.ts');
    applied = await applyPending(pg, set, pending.filter((m): m is KyselyMigration => !isGoose(m)), options.onApplying, options.lock);
  }

  let tables: readonly string[] = plan.flatMap((m) => m.tables);
  if (set.kind === 'goose') {
    const left = await relationsLeft(pg, set, state);
    assertDeclaredTablesLeft(set, left, options.tables ?? []);
    tables = left.relations ?? [];
  }

  const partitionsCreated: string[] = [];
  const rolled = new Set<string>();
  for (const migration of plan) {
    for (const table of migration.monthlyPartitions) {
      rolled.add(table);
      try {
        partitionsCreated.push(...(await ensureMonthlyPartitions(pg, { table, now: options.now, ...options.partitions })));
      } catch (error) {
        throw maintenanceFailure(migration, error);
      }
    }
  }
  const named = [...new Set(options.partitionTables ?? [])].filter((table) => !rolled.has(table));
  await assertRangePartitioned(pg, named);
  for (const table of named) partitionsCreated.push(...(await ensureMonthlyPartitions(pg, { table, now: options.now, ...options.partitions })));

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
  const done = new Set(applied);
  return Object.freeze({
    applied: Object.freeze(applied),
    alreadyApplied: Object.freeze(plan.filter((m) => !done.has(m.name)).map((m) => m.name)),
    tables: Object.freeze([...tables]),
    partitionsCreated: Object.freeze(partitionsCreated),
  });
}

export interface RollbackOptions {
  /**
   * Roll back everything applied after this migration, which stays. For a goose directory
   * also a version number or a name the ledger recorded (a file since renamed).
   * @default undefined: roll back all
   */
  readonly to?: string;
  readonly onRolledBack?: (name: string) => void;
  /** How long to wait for another run's lock, and who to tell who holds it. */
  readonly lock?: LockOptions;
}

/**
 * Runs `down` of applied migrations, each in its own transaction with its ledger rows: a
 * Kysely set's in reverse order of application (stopping at a migration another source
 * applied), a goose directory's newest version first, as goose does.
 */
export async function rollback(pg: Postgres, set: MigrationSet, options: RollbackOptions = {}): Promise<readonly string[]> {
  const state = await readApplied(pg, set);
  assertNoDrift(set, state);
  if (set.kind === 'goose') {
    if (state.applied.length === 0 && options.to === undefined) return Object.freeze([]);
    const { rollBackGoose } = await import('./goose/goose-steps.ts');
    return Object.freeze(await rollBackGoose(pg, set, options));
  }
  const { ledger } = state;
  if (options.to !== undefined && !ledger.has(options.to)) {
    const applied = [...ledger.keys()];
    throw new MigrationError(`cannot roll back to "${options.to}": it is not applied (applied: ${applied.length ? applied.join(', ') : 'none'})`, { migration: options.to });
  }
  const order = [...ledger.keys()];
  const names = order.slice(options.to === undefined ? 0 : order.indexOf(options.to) + 1).reverse();
  if (names.length === 0) return [];
  const { rollBack } = await import('./migrator-steps.ts');
  await rollBack(pg, set, names, options.onRolledBack, options.lock);
  return Object.freeze(names);
}

/** Fails when an applied migration's checksum differs from its file's, naming each one. */
export function assertNoDrift(set: MigrationSet, state: AppliedState): void {
  const recorded = (m: LoadedMigration) => state.of(m)?.entry?.checksum;
  const drifted = set.migrations.filter((m: LoadedMigration) => {
    const checksum = recorded(m);
    return checksum !== undefined && checksum !== m.checksum;
  });
  if (drifted.length === 0) return;
  const first = drifted[0]!;
  throw new MigrationError(
    `migration${drifted.length === 1 ? '' : 's'} ${drifted.map((m) => `"${m.name}"`).join(', ')} changed after being applied ` +
      `(checksum in the ledger ${recorded(first)?.slice(0, 12)}…, in ${first.file} ${first.checksum.slice(0, 12)}…); ` +
      'never edit an applied migration: restore it and add a new migration, or recreate the database',
    { migration: first.name, file: first.file },
  );
}

/**
 * A goose directory is applied whole; each declared table must be among the relations it
 * leaves. Unknowable when goose itself applied the newest migration (no record): verification
 * then checks that the declared tables exist.
 */
function assertDeclaredTablesLeft(set: GooseSet, left: RelationsLeft, declared: readonly string[]): void {
  if (!left.relations || declared.length === 0) return;
  const unknown = declared.filter((table) => !left.relations!.includes(table));
  if (unknown.length === 0) return;
  throw new ConfigError(
    `unknown table${unknown.length === 1 ? '' : 's'} ${unknown.map((t) => `"${t}"`).join(', ')} in "tables": the goose migrations in ${set.directory} do not leave ${unknown.length === 1 ? 'it' : 'them'}; ` +
      `after ${left.after} the database holds: ${left.relations.join(', ') || 'no relations'}`,
    { key: 'tables' },
  );
}

function maintenanceFailure(migration: LoadedMigration, error: unknown): Error {
  if (error instanceof Error && error.name === 'DatabaseError') return error;
  return new MigrationError(`maintenance of migration "${migration.name}" failed: ${(error as Error).message}`, { migration: migration.name, file: migration.file }, { cause: error });
}
