import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/** Effectiveness assessments waiting to run a few minutes after an action executed. */
export const meta: MigrationMeta = { tables: ['action_assessments'], dependsOn: [] };

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('action_assessments')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('trace_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('action_type', 'varchar(100)', (c) => c.notNull())
    .addColumn('context_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('alert_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('namespace', 'varchar(255)', (c) => c.notNull())
    .addColumn('resource_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('executed_at', 'timestamptz', (c) => c.notNull())
    // Give the cluster time to settle before judging whether the action worked.
    .addColumn('scheduled_for', 'timestamptz', (c) => c.notNull().defaultTo(sql`now() + interval '5 minutes'`))
    .addColumn('status', 'varchar(50)', (c) =>
      c.notNull().defaultTo('pending').check(sql`status in ('pending', 'processing', 'completed', 'failed')`),
    )
    .addColumn('completed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  const index = (name: string) => db.schema.createIndex(name).on('action_assessments');
  await index('idx_action_assessments_status_scheduled')
    .columns(['status', 'scheduled_for'])
    .where(sql<boolean>`status = 'pending'`)
    .execute();
  await index('idx_action_assessments_trace_id').column('trace_id').execute();
  await index('idx_action_assessments_context').columns(['action_type', 'context_hash']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('action_assessments').execute();
}
