import type { Kysely } from 'kysely';
import type { MigrationConfigInput } from '../config/config-schema.ts';
import type { MigrationConfig } from '../config/resolve-config.ts';
import { connect } from '../postgres/connect.ts';
import { loadMigrations } from '../migrate/load-migrations.ts';
import { migrate, type MigrateResult } from '../migrate/migrate.ts';
import { selectMigrations } from '../migrate/select-migrations.ts';
import type { Reporter, StageRecord } from '../report/reporter.ts';
import { openTarget } from '../target/open-target.ts';
import { connectionUrl, once, type ConnectionInfo, type StartedTarget, type TargetKind } from '../target/target.ts';
import { verifySchema } from '../verify/verify-schema.ts';
import { beginRun, type RunInput } from './begin-run.ts';
import { closeTarget } from './close-target.ts';

/** A migrated, verified database that stays reachable until `close()`. */
export interface PreparedDatabase extends AsyncDisposable {
  readonly target: TargetKind;
  readonly description: string;
  readonly connection: ConnectionInfo;
  /** `postgres://` URL with the password in it: hand it to tests, never print it. */
  readonly url: string;
  readonly migrations: MigrateResult;
  readonly stages: readonly StageRecord[];
  readonly config: MigrationConfig;
  /** Tears down what setup opened (forward, embedded server); idempotent. */
  close(): Promise<void>;
}

/** Run options plus `source` (named in config errors) and a shared `reporter`. */
export type PrepareOptions = RunInput;

/**
 * The whole pipeline up to handing the connection over: config → target → migrate →
 * verify. Whatever fails, everything opened so far is closed before the error leaves.
 */
export async function prepareDatabase(input: MigrationConfigInput & PrepareOptions): Promise<PreparedDatabase> {
  const { config, options, reporter } = beginRun(input);
  let target: StartedTarget | undefined;
  try {
    target = await openTarget(config, reporter);
    const migrations = await migrateAndVerify(target.connection, config, reporter, options.now);
    const started = target;
    const close = once(() => closeTarget(started, reporter));
    return Object.freeze({
      target: target.kind,
      description: target.description,
      connection: target.connection,
      url: connectionUrl(target.connection),
      migrations,
      stages: reporter.records,
      config,
      close,
      [Symbol.asyncDispose]: close,
    });
  } catch (error) {
    if (target) await target.close().catch((closeError) => reporter.warn(`teardown after a failed setup also failed: ${(closeError as Error).message}`));
    throw error;
  }
}

async function migrateAndVerify(connection: ConnectionInfo, config: MigrationConfig, reporter: Reporter, now?: Date): Promise<MigrateResult> {
  let db: Kysely<any> | undefined;
  try {
    const { result, set } = await reporter.stage('migrate', async (progress) => {
      progress.waitingFor(`Postgres at ${connection.host}:${connection.port} to accept user "${connection.user}"`);
      db = await connect(connection);
      const set = await loadMigrations(config.migrations);
      const plan = selectMigrations(set, config.tables);
      progress.waitingFor(`the migration lock to apply ${plan.length} migration${plan.length === 1 ? '' : 's'}`);
      const result = await migrate(db, set, plan, { partitions: config.partitions, ...(now ? { now } : {}) });
      progress.done(
        `${result.applied.length} applied, ${result.alreadyApplied.length} already applied` +
          (config.tables.length ? ` (for ${config.tables.join(', ')})` : ' (all tables)'),
      );
      return { result, set };
    });
    if (config.verify) {
      await reporter.stage('verify', async (progress) => {
        await verifySchema(db!, { tables: result.tables, ...(set.schema ? { schema: set.schema } : {}), ...(now ? { now } : {}) });
        progress.done(`${result.tables.length} table${result.tables.length === 1 ? '' : 's'} match`);
      });
    }
    return result;
  } finally {
    await db?.destroy();
  }
}
