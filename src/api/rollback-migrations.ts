import type { MigrationConfigInput } from '../config/config-schema.ts';
import { rollback } from '../migrate/migrate.ts';
import type { RunOptions } from '../run/run-options.ts';
import { withDatabase } from '../run/with-database.ts';

/**
 * Runs `down` of applied migrations in reverse order of application: all of them, or those
 * applied after `to` (which stays applied). Resolves to the names rolled back, in order.
 */
export async function rollbackMigrations(config: MigrationConfigInput & RunOptions & { to?: string } = {}): Promise<readonly string[]> {
  const { to, ...rest } = config;
  return withDatabase(rest, 'migrate', async ({ db, set, reporter }, progress) => {
    const names = await rollback(db, set, { ...(to !== undefined ? { to } : {}), onRolledBack: (name) => reporter.info(`rolled back ${name}`) });
    progress.done(`${names.length} rolled back${to ? ` (down to ${to})` : ''}`);
    return names;
  });
}
