import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/** The Kubernetes objects that action history and oscillation detection are about. */
export const meta: MigrationMeta = { tables: ['resource_references'], dependsOn: [] };

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('resource_references')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('resource_uid', 'varchar(36)', (c) => c.notNull().unique())
    .addColumn('api_version', 'varchar(100)', (c) => c.notNull())
    .addColumn('kind', 'varchar(100)', (c) => c.notNull())
    .addColumn('name', 'varchar(253)', (c) => c.notNull())
    .addColumn('namespace', 'varchar(63)')
    .addColumn('created_at', 'timestamptz', (c) => c.defaultTo(sql`now()`))
    .addColumn('deleted_at', 'timestamptz')
    .addColumn('last_seen', 'timestamptz', (c) => c.defaultTo(sql`now()`))
    .addUniqueConstraint('resource_references_namespace_kind_name_key', ['namespace', 'kind', 'name'])
    .execute();

  const index = (name: string) => db.schema.createIndex(name).on('resource_references');
  await index('idx_resource_namespace').column('namespace').execute();
  await index('idx_resource_kind').column('kind').execute();
  await index('idx_resource_uid').column('resource_uid').execute();
  await index('idx_resource_last_seen').column('last_seen').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('resource_references').execute();
}
