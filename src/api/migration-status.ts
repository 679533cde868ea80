import type { MigrationConfigInput } from '../config/config-schema.ts';
import { readLedger } from '../migrate/ledger.ts';
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
    const ledger = await readLedger(await session.connect());
    const statuses = session.plan.set.migrations.map((migration): MigrationStatus => {
      const entry = ledger.get(migration.name);
      return Object.freeze({
        name: migration.name,
        tables: migration.tables,
        applied: entry !== undefined,
        ...(entry ? { appliedAt: entry.appliedAt.toISOString() } : {}),
        checksum: !entry ? 'pending' : entry.checksum === undefined ? 'unrecorded' : entry.checksum === migration.checksum ? 'ok' : 'changed',
      });
    });
    progress.done(`${statuses.filter((s) => s.applied).length} of ${statuses.length} applied`);
    return statuses;
  });
}
