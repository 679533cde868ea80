import type { MigrationConfigInput } from '../config/config-schema.ts';
import { checksumState, readApplied } from '../migrate/applied.ts';
import { startSession, type RunOptions, type StartOptions } from '../session/start-session.ts';

export interface MigrationStatus {
  readonly name: string;
  readonly tables: readonly string[];
  readonly applied: boolean;
  readonly appliedAt?: string;
  /** `ok`, `changed` (drift), `unrecorded` (applied without a checksum) or `pending`. */
  readonly checksum: 'ok' | 'changed' | 'unrecorded' | 'pending';
}

/** Each migration of the source with whether and when it was applied, and its checksum state. */
export async function migrationStatus(config: MigrationConfigInput & RunOptions = {}, options: StartOptions = {}): Promise<readonly MigrationStatus[]> {
  await using session = await startSession(config, options);
  return await session.stage('migrate', async (progress) => {
    // A goose file is its version: a renamed file shows under its new name, still applied.
    const state = await readApplied(await session.connect(), session.plan.set);
    const statuses = session.plan.set.migrations.map((migration): MigrationStatus => {
      const applied = state.of(migration);
      return Object.freeze({
        name: migration.name,
        tables: migration.tables,
        applied: applied !== undefined,
        ...(applied ? { appliedAt: applied.appliedAt.toISOString() } : {}),
        checksum: checksumState(state, migration),
      });
    });
    progress.done(`${statuses.filter((s) => s.applied).length} of ${statuses.length} applied`);
    return statuses;
  });
}
