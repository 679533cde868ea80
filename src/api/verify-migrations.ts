import type { MigrationConfigInput } from '../config/config-schema.ts';
import { selectMigrations } from '../migrate/select-migrations.ts';
import type { RunOptions } from '../run/run-options.ts';
import { withDatabase } from '../run/with-database.ts';
import { verifySchema } from '../verify/verify-schema.ts';

/**
 * Checks, without changing anything, that the configured tables exist with the columns of
 * the typed schema and that `audit_events` has this month's partition. Resolves to nothing;
 * rejects with a VerificationError listing every problem. Go: `VerifyMigrations(ctx, config)`.
 */
export async function verifyMigrations(config: MigrationConfigInput & RunOptions = {}): Promise<void> {
  await withDatabase(config, 'verify', async ({ db, set, config: resolved, now }, progress) => {
    const tables = selectMigrations(set, resolved.tables).flatMap((migration) => migration.tables);
    await verifySchema(db, { tables, ...(set.schema ? { schema: set.schema } : {}), ...(now ? { now } : {}) });
    progress.done(`${tables.length} table${tables.length === 1 ? '' : 's'} match`);
  });
}
