import type { ResolvedConfig } from '../config/resolve-config.ts';
import type { LoadedMigration, MigrationSet } from '../migrate/loaded-migration.ts';
import type { MigrateResult } from '../migrate/migrate.ts';
import type { Postgres } from '../postgres/connect.ts';
import type { StartedTarget } from '../target/target.ts';
import { isolationFailure, templateLockKey } from './clone.ts';
import { captureSeed } from './seed-snapshot.ts';
import { templateName } from './clone-names.ts';
import { parseRecord, templateRecord, writeRecord } from './database-record.ts';

export interface TemplateResult {
  /** The template database, `e2e_tpl_<hash>`. */
  readonly name: string;
  /** True when this run built it; false when an existing template was reused. */
  readonly built: boolean;
  /** What migrating it did: everything on a build, nothing but maintenance on a reuse. */
  readonly migrations: MigrateResult;
}

/**
 * What building a template needs of a session (session/session.ts satisfies it). A type of
 * its own, not `Session`: the session builds its template through this module.
 */
export interface TemplateSession {
  readonly plan: { readonly set: MigrationSet; readonly migrations: readonly LoadedMigration[] };
  readonly config: ResolvedConfig;
  readonly target: StartedTarget;
  /** The run's clock: partitions are made from its month. */
  readonly now: Date;
  connect(database?: string): Promise<Postgres>;
  migrate(pg: Postgres, options: { readonly quiet: boolean }): Promise<MigrateResult>;
  verify(pg: Postgres, options: { readonly quiet: boolean }): Promise<void>;
}

/**
 * Makes sure the template for the session's plan exists on the target's server, migrated and
 * verified by the session's own steps, and returns its name. The name is a hash of the
 * planned migrations' checksums, so a template is built once and reused until the migrations
 * (or the selection) change. Runs under the template's advisory lock, exclusive, in the
 * target's database: a parallel setup waits and then reuses what the first one built, and no
 * clone is taken while the template is being migrated. A template left half-built by a
 * crash is not marked IS_TEMPLATE; it is dropped and rebuilt.
 *
 * On reuse in a later month it is migrated again (a no-op apart from partitions) and verified,
 * so a clone of it is always current; in the month it was last ensured, its record says all
 * that is needed (TemplateEnsured), and it is not connected to.
 */
export async function ensureTemplate(session: TemplateSession): Promise<TemplateResult> {
  const { config } = session;
  const name = sessionTemplateName(session);
  // A session whose own database is yet to be cloned from this template works from the server's admin database.
  const admin = await session.connect(session.target.provision?.adminDatabase);
  const quoted = admin.client.escapeIdentifier(name);
  const lockKey = templateLockKey(name);
  try {
    await admin.query('select pg_advisory_lock(hashtextextended($1, 0))', [lockKey]);
  } catch (error) {
    throw isolationFailure(`could not lock the template database "${name}"`, admin.connection, error);
  }
  try {
    const { rows } = await admin.query<{ datistemplate: boolean; comment: string | null }>(
      "select datistemplate, shobj_description(oid, 'pg_database') as comment from pg_database where datname = $1",
      [name],
    );
    const complete = rows[0]?.datistemplate === true;
    const month = session.now.toISOString().slice(0, 7);
    const record = parseRecord(rows[0]?.comment);
    if (complete && record?.kind === 'template' && record.ensured?.month === month) {
      // Migrated and verified this month already: nothing to apply (the migrations are in its
      // name), no partition to add. Reused on its record, without a connection to it.
      await writeRecord(admin.client, name, templateRecord(session.now, record.ensured)).catch(() => undefined);
      const migrations = Object.freeze({ applied: Object.freeze([]), alreadyApplied: record.ensured.applied, tables: record.ensured.tables, partitionsCreated: Object.freeze([]) });
      return Object.freeze({ name, built: false, migrations });
    }
    if (!complete) {
      try {
        if (rows[0]) await admin.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
        await admin.query(`CREATE DATABASE ${quoted}`);
      } catch (error) {
        throw isolationFailure(`could not create the template database "${name}"`, admin.connection, error);
      }
    }
    try {
      // A template must have no connections when it is cloned: this one closes before the lock is released.
      const template = await session.connect(name);
      let migrations: MigrateResult;
      try {
        migrations = await session.migrate(template, { quiet: true });
        if (config.verify) await session.verify(template, { quiet: true });
        await captureSeed(template, migrations.tables); // resetDatabase()'s snapshot, taken before sealing: every clone carries it
      } finally {
        await template.close();
      }
      if (!complete) await admin.query(`ALTER DATABASE ${quoted} IS_TEMPLATE true`);
      // Its last use, for pruning (prune-isolation.ts), and what this month's runs may reuse it
      // on. One another user owns keeps its record: pruning it is theirs.
      const ensured = { month, applied: [...migrations.alreadyApplied, ...migrations.applied], tables: [...migrations.tables] };
      await writeRecord(admin.client, name, templateRecord(session.now, ensured)).catch(() => undefined);
      return Object.freeze({ name, built: !complete, migrations });
    } catch (error) {
      if (!complete) await admin.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`).catch(() => undefined); // the build error is the one to report
      throw error;
    }
  } finally {
    await admin.query('select pg_advisory_unlock(hashtextextended($1, 0))', [lockKey]).catch(() => undefined); // a lost connection released it
  }
}

/** The name of the template of the session's plan (whether or not it exists yet). */
export function sessionTemplateName(session: Pick<TemplateSession, 'plan' | 'config'>): string {
  const { plan, config } = session;
  return templateName({ kind: plan.set.kind, migrations: plan.migrations, partitions: config.partitions });
}
