import type { MigrationConfigInput } from '../config/config-schema.ts';
import { checksumState, readApplied } from '../migrate/applied.ts';
import type { IsolationDatabase } from '../provide/isolation-databases.ts';
import type { Session } from '../session/session.ts';
import { startSession, type RunOptions, type StartOptions } from '../session/start-session.ts';

export interface MigrationStatus {
  readonly name: string;
  readonly tables: readonly string[];
  readonly applied: boolean;
  readonly appliedAt?: string;
  /** `ok`, `changed` (drift), `unrecorded` (applied without a checksum) or `pending`. */
  readonly checksum: 'ok' | 'changed' | 'unrecorded' | 'pending';
}

/** What `status` shows: the migrations, and the isolation templates and clones on the server. */
export interface StatusReport {
  readonly migrations: readonly MigrationStatus[];
  /**
   * Every isolation template and clone on the target's server (names of our shape only), with
   * its age and state: the template of these migrations is `current`; others are `recent` or
   * `stale` (unused for a week: the next isolating run prunes it); clones are `live`, `stale`
   * (their run is gone: pruned next) or `unknown`.
   */
  readonly isolation: readonly IsolationDatabase[];
}

/** Each migration of the source with whether and when it was applied, and its checksum state. */
export async function migrationStatus(config: MigrationConfigInput & RunOptions = {}, options: StartOptions = {}): Promise<readonly MigrationStatus[]> {
  await using session = await startSession(config, options);
  return await readMigrationStatus(session);
}

/** `migrationStatus`, plus the isolation databases on the server (what `e2e-migrations status` prints). */
export async function statusReport(config: MigrationConfigInput & RunOptions = {}, options: StartOptions = {}): Promise<StatusReport> {
  await using session = await startSession(config, options);
  const migrations = await readMigrationStatus(session);
  const [{ listIsolationDatabases }, { sessionTemplateName }] = await Promise.all([import('../provide/isolation-databases.ts'), import('../provide/template.ts')]);
  const isolation = await session.stage('provide', async (progress) => {
    const listed = await listIsolationDatabases((await session.connect()).client, { current: sessionTemplateName(session) });
    const count = (kind: IsolationDatabase['kind']) => listed.filter((d) => d.kind === kind).length;
    progress.done(`${count('template')} isolation templates, ${count('clone')} clones${count('spare') ? `, ${count('spare')} spares` : ''} on the server`);
    return listed;
  });
  return Object.freeze({ migrations, isolation: Object.freeze(isolation) });
}

function readMigrationStatus(session: Session): Promise<readonly MigrationStatus[]> {
  return session.stage('migrate', async (progress) => {
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
