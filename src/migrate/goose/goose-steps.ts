import { DatabaseError, MigrationError } from '../../errors/errors.ts';
import { connectionLost, isConnectionError, type Postgres } from '../../postgres/connect.ts';
import { readApplied, type AppliedState } from '../applied.ts';
import { CHECKSUM_TABLE, ensureLedgerTables, LEDGER_TABLE, nextTimestamp, RELATIONS_TABLE } from '../ledger.ts';
import type { GooseMigration, GooseSet } from '../loaded-migration.ts';
import { acquireMigrationLock, releaseMigrationLock, type LockOptions } from '../migration-lock.ts';
import { migrationFailure } from '../migration-failure.ts';
import { BOOKKEEPING_TABLES, currentRelationsSql } from '../relations.ts';
import { createGooseTable, gooseDownSql, gooseUpSql } from './goose-ledger.ts';
import { gooseVersionOf } from './goose-parser.ts';

/*
 * The steps that apply and roll back goose files: plain SQL on the run's connection, as goose
 * runs them (each file in its own transaction unless it says NO TRANSACTION, its statements
 * sent one by one as written), under the same migration lock as Kysely sets. No Kysely: a goose
 * directory is SQL text, and a run pays only for what it uses.
 *
 * Each file's transaction also writes its ledger rows: ours (name, timestamp, checksum, the
 * relations it left) and goose's (`goose_db_version`), so a failed file leaves none of them.
 */

/** As for Kysely sets (kysely-on.ts); the session passes the configured one. */
const DEFAULT_LOCK: LockOptions = Object.freeze({ timeoutMs: 60_000 });

export interface ApplyGooseOptions {
  /** Apply versions older than the newest applied one (goose's `-allow-missing`). */
  readonly allowMissing: boolean;
  readonly onApplying?: (migration: GooseMigration) => void;
  readonly lock?: LockOptions;
}

/**
 * Applies the files of `plan` that are not applied, in version order, under the lock; reads
 * the ledgers again once it holds the lock, so a version another run applied meanwhile is
 * not run twice. Returns the names this run applied.
 *
 * A never-applied version below the newest applied one is refused, naming each, unless
 * `allowMissing` (then it is applied, as `goose up -allow-missing` does).
 */
export async function applyGoose(pg: Postgres, set: GooseSet, plan: readonly GooseMigration[], options: ApplyGooseOptions): Promise<string[]> {
  return underLock(pg, options.lock, async () => {
    const state = await ensureLedgers(pg, set, await readApplied(pg, set));
    const pending = plan.filter((migration) => !state.of(migration));
    assertNoneMissing(state, pending, options.allowMissing);
    const applied: string[] = [];
    let after = nextTimestamp(state.ledger);
    for (const migration of pending) {
      options.onApplying?.(migration);
      await step(pg, migration, 'up', recordUp(pg, migration, staleNames(state, migration), after));
      applied.push(migration.name);
      after = new Date(Math.max(Date.now(), after.getTime() + 1));
    }
    return applied;
  });
}

export interface RollBackGooseOptions {
  /**
   * Roll back every version above this one, which stays: a file name of the set, a name the
   * ledger recorded (a file since renamed), or a version number. @default all
   */
  readonly to?: string;
  readonly onRolledBack?: (name: string) => void;
  readonly lock?: LockOptions;
}

/**
 * Rolls back applied versions, newest version first, as goose does: each file's `down` in its
 * own transaction with its ledger rows, goose's deleted as goose deletes them. Returns the
 * file names rolled back. Fails before rolling back anything when a version to roll back has
 * no file in the directory.
 */
export async function rollBackGoose(pg: Postgres, set: GooseSet, options: RollBackGooseOptions = {}): Promise<string[]> {
  return underLock(pg, options.lock, async () => {
    const state = await readApplied(pg, set);
    const target = options.to === undefined ? 0n : resolveTarget(set, state, options.to);
    const undo = state.applied.filter((applied) => applied.version! > target).reverse();
    const orphan = undo.find((applied) => !applied.migration);
    if (orphan) {
      throw new MigrationError(
        `cannot roll back version ${orphan.version}: it is applied, but no file in ${set.directory} has that version; restore its file (goose needs it too) and run again`,
        { migration: orphan.entry?.name ?? String(orphan.version) },
      );
    }
    const rolledBack: string[] = [];
    for (const applied of undo) {
      const migration = applied.migration as GooseMigration;
      await step(pg, migration, 'down', recordDown(pg, migration, namesOf(state, migration.version)));
      rolledBack.push(migration.name);
      options.onRolledBack?.(migration.name);
    }
    return rolledBack;
  });
}

/** Fails when a pending version is older than the newest applied one, unless that is allowed. */
export function assertNoneMissing(state: AppliedState, pending: readonly GooseMigration[], allowMissing: boolean): void {
  const newest = state.applied.at(-1);
  if (allowMissing || !newest) return;
  const missing = pending.filter((migration) => migration.version < newest.version!);
  if (missing.length === 0) return;
  const newestName = newest.migration ? `${newest.migration.name}.sql` : 'a file not in this directory';
  const one = missing.length === 1;
  throw new MigrationError(
    `goose migration${one ? '' : 's'} ${missing.map((m) => `${m.name}.sql (version ${m.version})`).join(', ')} ${one ? 'is' : 'are'} not applied, ` +
      `but version ${newest.version} (${newestName}) is: goose refuses to apply a version below the newest applied one, and so does this tool. ` +
      `Apply ${one ? 'it' : 'them'} anyway with allowMissing: true (--allow-missing), as \`goose up -allow-missing\` does, ` +
      `or give ${one ? 'it a version' : 'them versions'} above ${newest.version}`,
    { migration: missing[0]!.name, file: missing[0]!.file },
  );
}

/**
 * Creates what the steps write to: our ledger tables, and `goose_db_version` when it is
 * missing, with the versions our ledger already has (a database of 0.1.0, or one whose goose
 * table was dropped), so goose sees them applied. Returns the state read afresh.
 */
async function ensureLedgers(pg: Postgres, set: GooseSet, state: AppliedState): Promise<AppliedState> {
  if (state.present.ledger && state.present.checksums && state.present.relations && state.present.goose) return state;
  await ensureLedgerTables(pg);
  if (!state.present.goose) await createGooseTable(pg, state.applied.map((applied) => applied.version!));
  return readApplied(pg, set);
}

/** Statement and parameters that record (or forget) a migration in both ledgers. */
interface LedgerWrite {
  readonly text: string;
  readonly values: readonly unknown[];
}

/**
 * One statement, so it is atomic even for a NO TRANSACTION file: our ledger row, checksum
 * and relations record (replacing rows a since-renamed file left for the same version), and
 * goose's row. Data-modifying CTEs see the catalog as the migration left it.
 */
function recordUp(pg: Postgres, migration: GooseMigration, stale: readonly string[], at: Date): LedgerWrite {
  const [ledger, checksums, relations] = [LEDGER_TABLE, CHECKSUM_TABLE, RELATIONS_TABLE].map((name) => pg.client.escapeIdentifier(name));
  return {
    text: `with stale_ledger as (delete from ${ledger} where name = any ($1::text[])),
       stale_checksums as (delete from ${checksums} where name = any ($1::text[])),
       stale_relations as (delete from ${relations} where name = any ($1::text[])),
       ledger as (insert into ${ledger} (name, timestamp) values ($2, $3) on conflict (name) do update set timestamp = excluded.timestamp),
       checksum as (insert into ${checksums} (name, checksum) values ($2, $4) on conflict (name) do update set checksum = excluded.checksum, applied_at = now()),
       relations as (insert into ${relations} (name, relations) values ($2, ${currentRelationsSql('$6')})
                     on conflict (name) do update set relations = excluded.relations, recorded_at = now()),
       goose as (${gooseUpSql('$5')})
     select 1`,
    values: [stale, migration.name, at.toISOString(), migration.checksum, String(migration.version), BOOKKEEPING_TABLES],
  };
}

function recordDown(pg: Postgres, migration: GooseMigration, names: readonly string[]): LedgerWrite {
  const [ledger, checksums, relations] = [LEDGER_TABLE, CHECKSUM_TABLE, RELATIONS_TABLE].map((name) => pg.client.escapeIdentifier(name));
  return {
    text: `with ledger as (delete from ${ledger} where name = any ($1::text[])),
       checksums as (delete from ${checksums} where name = any ($1::text[])),
       relations as (delete from ${relations} where name = any ($1::text[])),
       goose as (${gooseDownSql('$2')})
     select 1`,
    values: [names, String(migration.version)],
  };
}

/**
 * Runs one direction of one file and writes the ledgers: in one transaction, or for a NO
 * TRANSACTION file statement by statement and then the ledger statement, as goose does.
 */
async function step(pg: Postgres, migration: GooseMigration, direction: 'up' | 'down', ledger: LedgerWrite): Promise<void> {
  const run = async () => {
    await runStatements(pg, migration, direction);
    await pg.query(ledger.text, ledger.values);
  };
  try {
    if (!migration.transactional) return await run();
    await pg.query('begin');
    try {
      await run();
      await pg.query('commit');
    } catch (error) {
      await pg.query('rollback').catch(() => undefined); // the statement's error is the one to report
      throw error;
    }
  } catch (error) {
    // A dropped connection is not the migration's fault: say so, naming the server.
    if (error instanceof DatabaseError) throw error;
    if (pg.lost || isConnectionError(error)) throw pg.lost ?? connectionLost(pg.connection, error as Error);
    throw migrationFailure(direction === 'up' ? 'apply' : 'roll back', migration, error);
  }
}

async function runStatements(pg: Postgres, migration: GooseMigration, direction: 'up' | 'down'): Promise<void> {
  const statements = migration.sql[direction];
  const lines = direction === 'up' ? migration.sql.upLines : migration.sql.downLines;
  for (const [index, statement] of statements.entries()) {
    try {
      // The file's own SQL, sent as written (simple protocol, so a StatementBegin block may
      // hold several statements): that is what a goose file is. No input is spliced into it.
      await pg.query(statement);
    } catch (error) {
      if (typeof error === 'object' && error !== null && !(error instanceof DatabaseError)) {
        Object.assign(error, { statementIndex: index + 1, statementCount: statements.length, statementLine: lines[index] });
      }
      throw error;
    }
  }
}

/** The ledger names recorded for `version` (normally one: the file's name when it was applied). */
function namesOf(state: AppliedState, version: bigint): string[] {
  return [...state.ledger.keys()].filter((name) => gooseVersionOf(name) === version);
}

/** Ledger rows for a pending migration's version: left by a file goose has since rolled back. */
function staleNames(state: AppliedState, migration: GooseMigration): string[] {
  return namesOf(state, migration.version).filter((name) => name !== migration.name);
}

/** `--to` as a version: a version number, a file name of the set, or a name the ledger recorded. */
function resolveTarget(set: GooseSet, state: AppliedState, to: string): bigint {
  const version = /^\d+$/.test(to) ? BigInt(to) : (set.migrations.find((m) => m.name === to)?.version ?? gooseVersionOf(to));
  const appliedNames = state.applied.map((a) => a.migration?.name ?? a.entry?.name ?? String(a.version));
  if (version === undefined) {
    throw new MigrationError(`cannot roll back to "${to}": it is neither a file of ${set.directory} nor a version (applied: ${appliedNames.join(', ') || 'none'})`, { migration: to });
  }
  if (version !== 0n && !state.applied.some((a) => a.version === version)) {
    throw new MigrationError(`cannot roll back to "${to}": it is not applied (applied: ${appliedNames.join(', ') || 'none'})`, { migration: to });
  }
  return version;
}

/** Runs `body` holding the migration lock; releases it however `body` ends. */
async function underLock<T>(pg: Postgres, lock: LockOptions | undefined, body: () => Promise<T>): Promise<T> {
  await acquireMigrationLock(pg, lock ?? DEFAULT_LOCK);
  let result: T;
  try {
    result = await body();
  } catch (error) {
    await releaseMigrationLock(pg).catch(() => undefined); // body's error is the one to report; a lost connection released it
    throw error;
  }
  await releaseMigrationLock(pg);
  return result;
}

