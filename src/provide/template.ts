import pg from 'pg';
import type { MigrationConfig } from '../config/resolve-config.ts';
import { loadMigrations } from '../migrate/load-migrations.ts';
import type { MigrateResult } from '../migrate/migrate.ts';
import { selectMigrations } from '../migrate/select-migrations.ts';
import { Reporter, type StageRecord } from '../report/reporter.ts';
import { prepareDatabase } from '../run/prepare-database.ts';
import { connectionUrl, type ConnectionInfo } from '../target/target.ts';
import { isolationFailure, templateLockKey } from './clone.ts';
import { templateName } from './clone-names.ts';

export interface TemplateResult {
  /** The template database, `e2e_tpl_<hash>`. */
  readonly name: string;
  /** True when this run built it; false when an existing template was reused. */
  readonly built: boolean;
  /** What migrating it did: everything on a build, nothing but maintenance on a reuse. */
  readonly migrations: MigrateResult;
  readonly stages: readonly StageRecord[];
}

export interface EnsureTemplateOptions {
  readonly now?: Date;
}

/**
 * Makes sure the template for this configuration's migrations exists on the target's server,
 * migrated and verified, and returns its name. The name is a hash of the planned migrations'
 * checksums, so a template is built once and reused until the migrations (or the selection)
 * change. Runs under the template's advisory lock, exclusive, in the target's database: a
 * parallel setup waits and then reuses what the first one built, and no clone is taken while
 * the template is being migrated. A template left half-built by a crash is not marked
 * IS_TEMPLATE; it is dropped and rebuilt.
 *
 * On reuse it is still migrated (a no-op apart from maintenance, e.g. this month's
 * partitions) and verified, so a clone of it is always current.
 */
export async function ensureTemplate(connection: ConnectionInfo, config: MigrationConfig, options: EnsureTemplateOptions = {}): Promise<TemplateResult> {
  const set = await loadMigrations(config.migrations);
  const plan = selectMigrations(set, config.tables);
  const name = templateName({ kind: set.kind, migrations: plan, partitions: config.partitions });
  const quoted = pg.escapeIdentifier(name);
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: 10_000, application_name: 'e2e-migrations' });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select pg_advisory_lock(hashtextextended($1, 0))', [templateLockKey(name)]);
  } catch (error) {
    await client.end().catch(() => {});
    throw isolationFailure(`could not lock the template database "${name}"`, connection, error);
  }
  try {
    const { rows } = await client.query<{ datistemplate: boolean }>('select datistemplate from pg_database where datname = $1', [name]);
    const complete = rows[0]?.datistemplate === true;
    if (!complete) {
      try {
        if (rows[0]) await client.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
        await client.query(`CREATE DATABASE ${quoted}`);
      } catch (error) {
        throw isolationFailure(`could not create the template database "${name}"`, connection, error);
      }
    }
    const reporter = new Reporter({ sink: false, secrets: [connection.password] });
    try {
      const prepared = await prepareDatabase({
        target: 'url',
        url: connectionUrl({ ...connection, database: name }),
        tables: config.tables.length > 0 ? [...config.tables] : 'all',
        ...(config.migrations ? { migrations: config.migrations } : {}),
        partitions: { ...config.partitions },
        verify: config.verify,
        reporter,
        logger: false,
        ...(options.now ? { now: options.now } : {}),
      });
      await prepared.close();
      if (!complete) await client.query(`ALTER DATABASE ${quoted} IS_TEMPLATE true`);
      return Object.freeze({ name, built: !complete, migrations: prepared.migrations, stages: reporter.records });
    } catch (error) {
      if (!complete) await client.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`).catch(() => {});
      throw error;
    }
  } finally {
    await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [templateLockKey(name)]).catch(() => {});
    await client.end().catch(() => {});
  }
}
