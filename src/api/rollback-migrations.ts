import type { MigrationConfigInput } from '../config/config-schema.ts';
import { rollback } from '../migrate/migrate.ts';
import { startSession, type RunOptions, type StartOptions } from '../session/start-session.ts';

/**
 * Runs `down` of applied migrations in reverse order of application: all of them, or those
 * applied after `to` (which stays applied). Resolves to the names rolled back, in order.
 */
export async function rollbackMigrations(config: MigrationConfigInput & RunOptions & { to?: string } = {}, options: StartOptions = {}): Promise<readonly string[]> {
  const { to, ...rest } = config;
  await using session = await startSession(rest, options);
  return await session.stage('migrate', async (progress) => {
    const names = await rollback(await session.connect(), session.plan.set, {
      ...(to !== undefined ? { to } : {}),
      onRolledBack: (name) => progress.note(`rolled back ${name}`),
    });
    progress.done(`${names.length} rolled back${to ? ` (down to ${to})` : ''}`);
    return names;
  });
}
