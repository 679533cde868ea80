import type { Postgres } from '../postgres/connect.ts';
import { GOOSE_TABLE } from './goose/goose-ledger.ts';

/**
 * The ledger: Kysely's migration table (name, timestamp) and lock table under our own
 * names, so they cannot collide with a service's own Kysely migrations, plus a checksum
 * table written in the same transaction as each migration (see migrator-steps.ts), and for
 * goose sources the relations each migration left (relations.ts).
 */
export const LEDGER_TABLE = 'e2e_migration';
export const LEDGER_LOCK_TABLE = 'e2e_migration_lock';
export const CHECKSUM_TABLE = 'e2e_migration_checksum';
export const RELATIONS_TABLE = 'e2e_migration_relations';

export interface LedgerEntry {
  /** The name it was recorded under: a Kysely module's name, a goose file's base name when applied. */
  readonly name: string;
  readonly appliedAt: Date;
  /** Absent for rows written by a tool that kept no checksum. */
  readonly checksum?: string;
}

/** Which bookkeeping tables a database holds. */
export interface LedgerPresence {
  readonly ledger: boolean;
  readonly checksums: boolean;
  readonly relations: boolean;
  readonly goose: boolean;
}

/**
 * Reads what has been applied, oldest first; an empty map for a database never migrated.
 * Plain SQL on the run's connection: a run with nothing to apply never loads Kysely.
 */
export async function readLedger(pg: Postgres): Promise<ReadonlyMap<string, LedgerEntry>> {
  return (await readLedgerState(pg)).ledger;
}

/** Which bookkeeping tables exist, and our ledger's rows (with checksums), oldest first. */
export async function readLedgerState(pg: Postgres): Promise<{ present: LedgerPresence; ledger: ReadonlyMap<string, LedgerEntry> }> {
  return (await readSteadyState(pg)) ?? (await readFirstTime(pg));
}


/**
 * Every run after the first finds both ledger tables: one round trip reads which bookkeeping
 * tables exist and every ledger row. Undefined when a ledger table is missing (42P01).
 */
async function readSteadyState(pg: Postgres): Promise<{ present: LedgerPresence; ledger: ReadonlyMap<string, LedgerEntry> } | undefined> {
  const id = (name: string) => pg.client.escapeIdentifier(name);
  // Our constants only, quoted by pg; nothing from input reaches this text.
  const result = await pg
    .query<{ relations: boolean; goose: boolean; name: string | null; timestamp: string | null; checksum: string | null }>(
      `with present as (select to_regclass($1) is not null as relations, to_regclass($2) is not null as goose)
       select present.relations, present.goose, l.name, l.timestamp, c.checksum
       from present left join (${id(LEDGER_TABLE)} l left join ${id(CHECKSUM_TABLE)} c on c.name = l.name) on true
       order by l.timestamp, l.name`,
      [RELATIONS_TABLE, GOOSE_TABLE],
    )
    .catch((error: { code?: string }) => {
      if (error.code === '42P01') return undefined;
      throw error;
    });
  if (!result) return undefined;
  const first = result.rows[0]!;
  const ledger = new Map<string, LedgerEntry>();
  for (const row of result.rows) {
    if (row.name === null) continue;
    ledger.set(row.name, Object.freeze({ name: row.name, appliedAt: new Date(row.timestamp!), ...(row.checksum ? { checksum: row.checksum.trim() } : {}) }));
  }
  return { present: Object.freeze({ ledger: true, checksums: true, relations: first.relations, goose: first.goose }), ledger };
}

/** A database without (one of) our ledger tables: which exist, then what they hold. */
async function readFirstTime(pg: Postgres): Promise<{ present: LedgerPresence; ledger: ReadonlyMap<string, LedgerEntry> }> {
  const { rows } = await pg.query<{ ledger: string | null; checksums: string | null; relations: string | null; goose: string | null }>(
    'select to_regclass($1)::text as ledger, to_regclass($2)::text as checksums, to_regclass($3)::text as relations, to_regclass($4)::text as goose',
    [LEDGER_TABLE, CHECKSUM_TABLE, RELATIONS_TABLE, GOOSE_TABLE],
  );
  const found = rows[0]!;
  const present = Object.freeze({ ledger: found.ledger !== null, checksums: found.checksums !== null, relations: found.relations !== null, goose: found.goose !== null });
  return { present, ledger: present.ledger ? await readLedgerRows(pg, present.checksums) : new Map() };
}

/** The ledger's rows, oldest first; the ledger table must exist. */
async function readLedgerRows(pg: Postgres, withChecksums: boolean): Promise<Map<string, LedgerEntry>> {
  // Identifiers are our constants, quoted by pg; nothing from input reaches this text.
  const ledger = pg.client.escapeIdentifier(LEDGER_TABLE);
  const checksums = pg.client.escapeIdentifier(CHECKSUM_TABLE);
  const { rows } = await pg.query<{ name: string; timestamp: string; checksum: string | null }>(
    withChecksums
      ? `select l.name, l.timestamp, c.checksum from ${ledger} l left join ${checksums} c on c.name = l.name order by l.timestamp, l.name`
      : `select name, timestamp, null as checksum from ${ledger} order by timestamp, name`,
  );
  const entries = new Map<string, LedgerEntry>();
  for (const row of rows) {
    entries.set(row.name, Object.freeze({ name: row.name, appliedAt: new Date(row.timestamp), ...(row.checksum ? { checksum: row.checksum.trim() } : {}) }));
  }
  return entries;
}

/**
 * Creates the ledger tables a plain-SQL step writes, as Kysely's Migrator and migrator-steps.ts
 * create them (same columns, so either can write after the other). Idempotent; run under the
 * migration lock.
 */
export async function ensureLedgerTables(pg: Postgres): Promise<void> {
  const id = (name: string) => pg.client.escapeIdentifier(name);
  // Our constants only; one round trip.
  await pg.query(
    `create table if not exists ${id(LEDGER_TABLE)} (name varchar(255) not null primary key, timestamp varchar(255) not null);
     create table if not exists ${id(CHECKSUM_TABLE)} (name varchar(255) primary key, checksum char(64) not null, applied_at timestamptz not null default now());
     create table if not exists ${id(RELATIONS_TABLE)} (name varchar(255) primary key, relations text[] not null, recorded_at timestamptz not null default now());`,
  );
}

/**
 * The timestamp to record the next migration under: now, or just after the newest row when
 * the clock is behind it, as Kysely's Migrator does, so the ledger's order stays the order
 * of application.
 */
export function nextTimestamp(ledger: ReadonlyMap<string, LedgerEntry>, now = Date.now()): Date {
  let newest = 0;
  for (const entry of ledger.values()) newest = Math.max(newest, entry.appliedAt.getTime());
  return new Date(Math.max(now, newest + 1));
}
