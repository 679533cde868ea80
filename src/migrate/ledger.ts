import type { Postgres } from '../postgres/connect.ts';

/**
 * The ledger: Kysely's migration table (name, timestamp) and lock table under our own
 * names, so they cannot collide with a service's own Kysely migrations, plus a checksum
 * table written in the same transaction as each migration (see migrator-steps.ts).
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

/**
 * Reads what has been applied, oldest first; an empty map for a database never migrated.
 * Plain SQL on the run's connection: a run with nothing to apply never loads Kysely.
 */
export async function readLedger(pg: Postgres): Promise<Map<string, LedgerEntry>> {
  const { rows: present } = await pg.query<{ ledger: string | null; checksums: string | null }>(
    'select to_regclass($1)::text as ledger, to_regclass($2)::text as checksums',
    [LEDGER_TABLE, CHECKSUM_TABLE],
  );
  if (!present[0]?.ledger) return new Map();
  // Identifiers are our constants, quoted by pg; nothing from input reaches this text.
  const ledger = pg.client.escapeIdentifier(LEDGER_TABLE);
  const checksums = pg.client.escapeIdentifier(CHECKSUM_TABLE);
  const { rows } = await pg.query<{ name: string; timestamp: string; checksum: string | null }>(
    present[0].checksums
      ? `select l.name, l.timestamp, c.checksum from ${ledger} l left join ${checksums} c on c.name = l.name order by l.timestamp, l.name`
      : `select name, timestamp, null as checksum from ${ledger} order by timestamp, name`,
  );
  const entries = new Map<string, LedgerEntry>();
  for (const row of rows) {
    entries.set(row.name, Object.freeze({ name: row.name, appliedAt: new Date(row.timestamp), ...(row.checksum ? { checksum: row.checksum.trim() } : {}) }));
  }
  return entries;
}
