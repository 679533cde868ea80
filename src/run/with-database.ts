import type { Kysely } from 'kysely';
import type { MigrationConfigInput } from '../config/config-schema.ts';
import { resolveConfig, type MigrationConfig } from '../config/resolve-config.ts';
import { connect } from '../migrate/connect.ts';
import { loadMigrations } from '../migrate/load-migrations.ts';
import type { MigrationSet } from '../migrate/loaded-migration.ts';
import { Reporter, type StageName } from '../report/reporter.ts';
import { openTarget } from '../target/open-target.ts';
import type { StartedTarget } from '../target/target.ts';
import { splitRunOptions, type RunOptions } from './run-options.ts';

export interface DatabaseSession {
  readonly db: Kysely<any>;
  readonly set: MigrationSet;
  readonly config: MigrationConfig;
  readonly reporter: Reporter;
  readonly target: StartedTarget;
  readonly now?: Date;
}

/**
 * Opens the target, connects, loads the migrations, runs `body` as one reported stage, and
 * closes everything again whatever happens. For the one-shot commands (verify, down, status).
 */
export async function withDatabase<T>(
  input: MigrationConfigInput & RunOptions & { source?: string },
  stage: StageName,
  body: (session: DatabaseSession, progress: { done(detail: string): void }) => Promise<T>,
): Promise<T> {
  const { config: raw, options } = splitRunOptions(input);
  const { source, ...block } = raw as typeof raw & { source?: string };
  const config = resolveConfig(block, source);
  const reporter = new Reporter({ sink: options.logger, secrets: config.password ? [config.password] : [] });
  const target = await openTarget(config, reporter);
  let db: Kysely<any> | undefined;
  try {
    return await reporter.stage(stage, async (progress) => {
      progress.waitingFor(`Postgres at ${target.connection.host}:${target.connection.port}`);
      db = await connect(target.connection);
      const set = await loadMigrations(config.migrations);
      return body({ db, set, config, reporter, target, ...(options.now ? { now: options.now } : {}) }, progress);
    });
  } finally {
    await db?.destroy();
    await reporter.stage('teardown', async (progress) => {
      await target.close();
      progress.done(`closed ${target.description}`);
    });
  }
}
