import type { MigrationConfigInput } from '../config/config-schema.ts';
import { startSession, type RunOptions, type StartOptions } from '../session/start-session.ts';

/**
 * Checks, without changing anything, that the configured tables exist with the columns of
 * the typed schema and that each partitioned table accepts today's date. Resolves to
 * nothing; rejects with a VerificationError listing every problem. Go: `VerifyMigrations(ctx, config)`.
 */
export async function verifyMigrations(config: MigrationConfigInput & RunOptions = {}, options: StartOptions = {}): Promise<void> {
  await using session = await startSession(config, options);
  await session.verify();
}
