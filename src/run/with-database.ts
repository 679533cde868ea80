import type { Kysely } from 'kysely';
import type { MigrationConfigInput } from '../config/config-schema.ts';
import type { MigrationConfig } from '../config/resolve-config.ts';
import { connect } from '../postgres/connect.ts';
import { loadMigrations } from '../migrate/load-migrations.ts';
import type { MigrationSet } from '../migrate/loaded-migration.ts';
import type { Reporter, StageName } from '../report/reporter.ts';
import { openTarget } from '../target/open-target.ts';
import type { StartedTarget } from '../target/target.ts';
import { beginRun, type RunInput } from './begin-run.ts';
import { closeTarget } from './close-target.ts';

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
  input: MigrationConfigInput & RunInput,
  stage: StageName,
  body: (session: DatabaseSession, progress: { done(detail: string): void }) => Promise<T>,
): Promise<T> {
  const { config, options, reporter } = beginRun(input);
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
    await closeTarget(target, reporter);
  }
}
