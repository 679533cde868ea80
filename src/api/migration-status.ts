import type { MigrationConfigInput } from '../config/config-schema.ts';
import { readLedger } from '../migrate/ledger.ts';
import type { RunOptions } from '../run/run-options.ts';
import { withDatabase } from '../run/with-database.ts';

export interface MigrationStatus {
  readonly name: string;
  readonly tables: readonly string[];
  readonly applied: boolean;
  readonly appliedAt?: string;
  /** `ok`, `changed` (drift), `unrecorded` (applied without a checksum) or `pending`. */
  readonly checksum: 'ok' | 'changed' | 'unrecorded' | 'pending';
}

/** Each migration of the source with whether and when it was applied, and its checksum state. */
export async function migrationStatus(config: MigrationConfigInput & RunOptions = {}): Promise<readonly MigrationStatus[]> {
  return withDatabase(config, 'migrate', async ({ db, set }, progress) => {
    const ledger = await readLedger(db);
    const statuses = set.migrations.map((migration): MigrationStatus => {
      const entry = ledger.get(migration.name);
      return Object.freeze({
        name: migration.name,
        tables: migration.tables,
        applied: entry !== undefined,
        ...(entry ? { appliedAt: entry.appliedAt.toISOString() } : {}),
        checksum: !entry ? 'pending' : entry.checksum === undefined ? 'unrecorded' : entry.checksum.trim() === migration.checksum ? 'ok' : 'changed',
      });
    });
    progress.done(`${statuses.filter((s) => s.applied).length} of ${statuses.length} applied`);
    return statuses;
  });
}
