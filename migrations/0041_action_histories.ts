import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/** Per-resource settings and counters of the action history (one row per resource). */
export const meta: MigrationMeta = {
  tables: ['action_histories'],
  dependsOn: ['0003_function_update_updated_at', '0040_resource_references'],
};

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('action_histories')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('resource_id', 'bigint', (c) => c.notNull().unique().references('resource_references.id').onDelete('cascade'))
    .addColumn('max_actions', 'integer', (c) => c.defaultTo(1000))
    .addColumn('max_age_days', 'integer', (c) => c.defaultTo(30))
    .addColumn('compaction_strategy', 'varchar(20)', (c) => c.defaultTo('pattern-aware'))
    .addColumn('oscillation_window_minutes', 'integer', (c) => c.defaultTo(120))
    // Written as SQL: a JavaScript 0.70 is 0.7, and Postgres keeps the literal as written.
    .addColumn('effectiveness_threshold', 'numeric(3, 2)', (c) => c.defaultTo(sql`0.70`))
    .addColumn('pattern_min_occurrences', 'integer', (c) => c.defaultTo(3))
    .addColumn('total_actions', 'integer', (c) => c.defaultTo(0))
    .addColumn('last_action_at', 'timestamptz')
    .addColumn('last_analysis_at', 'timestamptz')
    .addColumn('next_analysis_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.defaultTo(sql`now()`))
    .execute();

  const index = (name: string) => db.schema.createIndex(name).on('action_histories');
  await index('idx_ah_resource_id').column('resource_id').execute();
  await index('idx_ah_last_action').column('last_action_at').execute();
  await index('idx_ah_next_analysis').column('next_analysis_at').execute();

  await sql`create trigger update_action_histories_updated_at before update on action_histories
    for each row execute function update_updated_at()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('action_histories').execute();
}
