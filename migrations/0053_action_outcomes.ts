import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/** What happened after each executed action: the samples confidence is learned from. */
export const meta: MigrationMeta = { tables: ['action_outcomes'], dependsOn: [] };

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('action_outcomes')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('trace_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('action_type', 'varchar(100)', (c) => c.notNull())
    .addColumn('context_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('success', 'boolean', (c) => c.notNull())
    .addColumn('effectiveness_score', 'double precision', (c) =>
      c.notNull().check(sql`effectiveness_score >= 0 and effectiveness_score <= 1`),
    )
    .addColumn('executed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('execution_time', 'bigint')
    .addColumn('metrics_before', 'jsonb')
    .addColumn('metrics_after', 'jsonb')
    .addColumn('side_effects', 'integer', (c) => c.defaultTo(0))
    .addColumn('alert_resolved', 'boolean', (c) => c.notNull())
    .addColumn('failure_reason', 'text')
    .addColumn('assessed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  const index = (name: string) => db.schema.createIndex(name).on('action_outcomes');
  await index('idx_action_outcomes_context').columns(['action_type', 'context_hash']).execute();
  await index('idx_action_outcomes_executed_at').column('executed_at').execute();
  await index('idx_action_outcomes_success').column('success').execute();
  await index('idx_action_outcomes_effectiveness').column('effectiveness_score').execute();
  await index('idx_action_outcomes_learning_query').columns(['action_type', 'context_hash', 'executed_at desc']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('action_outcomes').execute();
}
