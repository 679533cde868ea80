import { ConfigError, DatabaseError } from '../errors/errors.ts';
import type { ConnectionInfo } from '../postgres/connection-string.ts';
import { RESET_FUNCTION, SEED_ERRORS, SEED_SCHEMA } from './seed-sql.ts';

/*
 * The one call every `resetDatabase()` makes, whoever holds the connection (the API's own,
 * a test worker's kept one). Imports nothing heavy: test workers load it.
 */

/** What a reset did. */
export interface ResetResult {
  /**
   * How rows were removed: `delete` (DELETE with the tables' DELETE triggers off for the
   * transaction), `truncate`, or `none` when every table was as migrating left it.
   */
  readonly method: 'delete' | 'truncate' | 'none';
  /** The relations emptied: plain tables and partitions (a whole partitioned table when TRUNCATE needed it). */
  readonly emptied: readonly string[];
  /** Tables whose seed rows were inserted again. */
  readonly restored: readonly string[];
  /** How many sequences were set back. */
  readonly sequences: number;
}

/** Anything with pg's `query`: a `pg.Client`, or our `Postgres`. */
export interface Queryable {
  query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * Above this size a leaf partition (or plain table) is emptied with TRUNCATE, below it with
 * DELETE: deleting costs per row, truncating costs a new file per index whatever the rows.
 * 1 MiB is a few thousand rows of audit_events, deleted in a few milliseconds.
 */
export const DELETE_MAX_BYTES = 1024 * 1024;

/**
 * How long a reset waits for a lock on a table it resets (when the session sets no
 * lock_timeout of its own): shorter than a test's timeout, so that a transaction left open on
 * such a table fails the reset with a reason rather than the test with a timeout.
 */
export const LOCK_TIMEOUT_MS = 4_000;

/**
 * Puts `tables` of the database `db` is connected to back to the state migrating left them in,
 * as recorded by `captureSeed`: rows written since are gone (DELETE triggers such as a legal
 * hold do not stop it), seed rows are back as they were, sequences continue as after migrating.
 * One statement, one round trip, atomic. `null` resets every table the snapshot holds.
 *
 * Untouched: tables outside `tables` (a table outside them that references one of them must be
 * empty, or the reset fails naming it), views (materialized views are not refreshed), the
 * ledgers, the schema itself.
 *
 * `connection` only names the database in errors.
 */
export async function resetTables(db: Queryable, tables: readonly string[] | null, connection: ConnectionInfo): Promise<ResetResult> {
  if (tables !== null && tables.length === 0) {
    throw new ConfigError(
      `resetDatabase(): no tables to reset in database "${connection.database}": the run's selection lists none ` +
        '(a goose directory last applied by goose itself records none); name them in the block\'s tables',
      { key: 'tables' },
    );
  }
  try {
    const { rows } = await db.query(`select ${RESET_FUNCTION}($1::text[], $2::bigint, $3::int) as result`, [tables, DELETE_MAX_BYTES, LOCK_TIMEOUT_MS]);
    const { result } = rows[0] as { result: ResetResult };
    return Object.freeze({ ...result, emptied: Object.freeze(result.emptied), restored: Object.freeze(result.restored) });
  } catch (error) {
    throw resetFailure(error, connection);
  }
}

/** The reset's failures worded for the person who has to act on them. */
export function resetFailure(error: unknown, connection: ConnectionInfo): DatabaseError {
  const { code, detail, message } = error as { code?: string; detail?: string; message?: string };
  const where = `database "${connection.database}" on ${connection.host}:${connection.port}`;
  const again =
    'take a new one by migrating with this version of e2e-migrations (the Vitest and Jest global setups, prepareDatabase() and `e2e-migrations apply` take it right after migrating) ' +
    'into a fresh database: with an embedded target or isolate: \'file\' every run does; a URL target keeps its snapshot once taken, so drop and recreate that database';
  let text: string;
  if (code === '3F000' || code === '42883') {
    text = `resetDatabase(): ${where} has no seed snapshot (schema ${SEED_SCHEMA}, functions of format v1): it was migrated by an older e2e-migrations, or by a user that may not create that schema; ${again}`;
  } else if (code === SEED_ERRORS.notCaptured) {
    text = `resetDatabase(): the seed snapshot in ${where} does not cover ${detail}: they were migrated before a snapshot was taken; ${again}`;
  } else if (code === SEED_ERRORS.unknownRelation) {
    text = `resetDatabase(): ${where} has no relation ${detail} of the selection: is it the database the tables were migrated into?`;
  } else if (code === SEED_ERRORS.referencedFromOutside) {
    text = `resetDatabase(): tables outside the selection hold rows that reference tables to reset, in ${where}: ${detail}; add them to tables, or empty them first`;
  } else if (code === '55P03') {
    text = `resetDatabase(): waited ${LOCK_TIMEOUT_MS} ms for a lock on a table to reset in ${where}: another transaction holds it (one the test left open?): ${message}`;
  } else if (error instanceof DatabaseError) {
    return error; // a lost connection, already worded
  } else {
    text = `resetDatabase(): could not reset ${where}: ${message ?? String(error)}`;
  }
  return new DatabaseError(text, { host: connection.host, port: connection.port, database: connection.database, user: connection.user }, { cause: error });
}
