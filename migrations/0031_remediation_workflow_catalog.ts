import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/** Versioned remediation workflows; each implements one action type of the taxonomy. */
export const meta: MigrationMeta = {
  tables: ['remediation_workflow_catalog'],
  dependsOn: ['0002_extension_uuid_ossp', '0030_action_type_taxonomy'],
};

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('remediation_workflow_catalog')
    .addColumn('workflow_id', 'uuid', (c) => c.primaryKey().defaultTo(sql`uuid_generate_v4()`))
    .addColumn('workflow_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('version', 'varchar(50)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('description', 'jsonb', (c) => c.notNull().defaultTo('{}'))
    .addColumn('owner', 'varchar(255)')
    .addColumn('maintainer', 'varchar(255)')
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('content_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('parameters', 'jsonb')
    .addColumn('execution_engine', 'varchar(50)', (c) => c.notNull().defaultTo('tekton'))
    .addColumn('execution_bundle', 'text')
    .addColumn('execution_bundle_digest', 'varchar(71)')
    .addColumn('schema_image', 'text')
    .addColumn('schema_digest', 'varchar(71)')
    .addColumn('schema_version', 'varchar(10)', (c) => c.notNull().defaultTo('1.0'))
    .addColumn('engine_config', 'jsonb')
    .addColumn('service_account_name', 'text')
    .addColumn('labels', 'jsonb', (c) => c.notNull().defaultTo('{}'))
    .addColumn('custom_labels', 'jsonb', (c) => c.notNull().defaultTo('{}'))
    .addColumn('detected_labels', 'jsonb', (c) => c.notNull().defaultTo('{}'))
    .addColumn('action_type', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) =>
      c.notNull().defaultTo('Active').check(sql`status in ('Active', 'Disabled', 'Deprecated', 'Archived', 'Superseded')`),
    )
    .addColumn('status_reason', 'text')
    .addColumn('disabled_at', 'timestamptz')
    .addColumn('disabled_by', 'varchar(255)')
    .addColumn('disabled_reason', 'text')
    .addColumn('is_latest_version', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('previous_version', 'varchar(50)')
    .addColumn('deprecation_notice', 'text')
    .addColumn('version_notes', 'text')
    .addColumn('change_summary', 'text')
    .addColumn('approved_by', 'varchar(255)')
    .addColumn('approved_at', 'timestamptz')
    .addColumn('expected_success_rate', 'numeric(4, 3)', (c) =>
      c.check(sql`expected_success_rate is null or (expected_success_rate >= 0 and expected_success_rate <= 1)`),
    )
    .addColumn('expected_duration_seconds', 'integer')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('created_by', 'varchar(255)')
    .addColumn('updated_by', 'varchar(255)')
    .addForeignKeyConstraint('fk_workflow_action_type', ['action_type'], 'action_type_taxonomy', ['action_type'])
    .execute();

  const index = (name: string) => db.schema.createIndex(name).on('remediation_workflow_catalog');
  await index('idx_workflow_catalog_workflow_name').column('workflow_name').execute();
  await index('idx_workflow_catalog_status').column('status').execute();
  await index('idx_workflow_catalog_created_at').column('created_at desc').execute();
  await index('idx_workflow_catalog_labels').using('gin').column('labels').execute();
  await index('idx_workflow_catalog_custom_labels').using('gin').column('custom_labels').execute();
  await index('idx_workflow_catalog_detected_labels').using('gin').column('detected_labels').execute();
  await index('idx_workflow_action_type_status_version').columns(['action_type', 'status', 'is_latest_version']).execute();
  await index('idx_workflow_catalog_latest_by_name')
    .columns(['workflow_name', 'is_latest_version'])
    .where(sql<boolean>`is_latest_version = true`)
    .execute();
  await index('idx_workflow_catalog_execution_bundle_digest')
    .column('execution_bundle_digest')
    .where(sql<boolean>`execution_bundle_digest is not null`)
    .execute();
  await index('idx_workflow_catalog_schema_digest').column('schema_digest').where(sql<boolean>`schema_digest is not null`).execute();
  // Only one Active row per name and version; superseded and archived rows may repeat it.
  await index('uq_workflow_name_version_active')
    .unique()
    .columns(['workflow_name', 'version'])
    .where(sql<boolean>`status = 'Active'`)
    .execute();

  // Its own function rather than the shared update_updated_at(): the DS schema names it so.
  await sql`
    create function update_workflow_catalog_updated_at() returns trigger
    language plpgsql as $$
    begin
      new.updated_at := now();
      return new;
    end
    $$`.execute(db);
  await sql`create trigger trigger_workflow_catalog_updated_at before update on remediation_workflow_catalog
    for each row execute function update_workflow_catalog_updated_at()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('remediation_workflow_catalog').execute();
  await sql`drop function update_workflow_catalog_updated_at()`.execute(db);
}
