import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/** One row per retention run of DataStorage (what it scanned, deleted, dropped). */
export const meta: MigrationMeta = { tables: ['retention_operations'], dependsOn: [] };

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('retention_operations')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('run_id', 'uuid', (c) => c.notNull().defaultTo(sql`gen_random_uuid()`))
    .addColumn('scope', 'varchar(50)', (c) => c.notNull().defaultTo('audit_events'))
    .addColumn('status', 'varchar(20)', (c) => c.notNull().defaultTo('running'))
    .addColumn('operation_start', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('operation_end', 'timestamptz')
    .addColumn('operation_duration_ms', 'integer')
    .addColumn('period_start', 'date')
    .addColumn('period_end', 'date')
    .addColumn('rows_scanned', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rows_deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('partitions_dropped', sql`text[]`, (c) => c.defaultTo('{}'))
    .addColumn('error_message', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.defaultTo(sql`now()`))
    .execute();

  await db.schema.createIndex('idx_retention_ops_start').on('retention_operations').column('operation_start desc').execute();
  await db.schema.createIndex('idx_retention_ops_run_id').on('retention_operations').column('run_id').execute();
  await db.schema.createIndex('idx_retention_ops_status').on('retention_operations').column('status').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('retention_operations').execute();
}
