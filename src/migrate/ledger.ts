import { sql, type Kysely } from 'kysely';

/**
 * The ledger: Kysely's migration table (name, timestamp) and lock table under our own
 * names, so they cannot collide with a service's own Kysely migrations, plus a checksum
 * table written in the same transaction as each migration.
 */
export const LEDGER_TABLE = 'e2e_migration';
export const LEDGER_LOCK_TABLE = 'e2e_migration_lock';
export const CHECKSUM_TABLE = 'e2e_migration_checksum';

export interface LedgerEntry {
  readonly name: string;
  readonly appliedAt: Date;
  /** Absent for rows written by a tool that kept no checksum. */
  readonly checksum?: string;
}

/** Reads what has been applied, oldest first; an empty map for a database never migrated. */
export async function readLedger(db: Kysely<any>): Promise<Map<string, LedgerEntry>> {
  const { rows } = await sql<{ ledger: string | null; checksums: string | null }>`
    select to_regclass(${LEDGER_TABLE})::text as ledger, to_regclass(${CHECKSUM_TABLE})::text as checksums`.execute(db);
  const present = rows[0];
  if (!present?.ledger) return new Map();
  const entries: { name: string; timestamp: string; checksum?: string | null }[] = present.checksums
    ? await db
        .selectFrom(`${LEDGER_TABLE} as l`)
        .leftJoin(`${CHECKSUM_TABLE} as c`, 'c.name', 'l.name')
        .select(['l.name as name', 'l.timestamp as timestamp', 'c.checksum as checksum'])
        .execute()
    : await db.selectFrom(LEDGER_TABLE).select(['name', 'timestamp']).execute();
  const ledger = new Map<string, LedgerEntry>();
  for (const row of entries.sort((a, b) => String(a.timestamp).localeCompare(String(b.timestamp)))) {
    ledger.set(row.name, Object.freeze({ name: row.name, appliedAt: new Date(row.timestamp), ...(row.checksum ? { checksum: row.checksum } : {}) }));
  }
  return ledger;
}

/** Records a migration's checksum; call inside the migration's own transaction. */
export async function recordChecksum(db: Kysely<any>, name: string, checksum: string): Promise<void> {
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

/** Forgets a migration's checksum; call inside the transaction of its `down`. */
export async function forgetChecksum(db: Kysely<any>, name: string): Promise<void> {
  const { rows } = await sql<{ t: string | null }>`select to_regclass(${CHECKSUM_TABLE})::text as t`.execute(db);
  if (rows[0]?.t) await db.deleteFrom(CHECKSUM_TABLE).where('name', '=', name).execute();
}
