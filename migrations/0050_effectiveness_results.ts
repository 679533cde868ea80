import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/** The effectiveness assessment of one remediation, keyed by its trace. */
export const meta: MigrationMeta = { tables: ['effectiveness_results'], dependsOn: [] };

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('effectiveness_results')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('trace_id', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('action_type', 'varchar(100)', (c) => c.notNull())
    .addColumn('overall_score', 'double precision', (c) =>
      c.notNull().check(sql`overall_score >= 0 and overall_score <= 1`),
    )
    .addColumn('alert_resolved', 'boolean', (c) => c.notNull())
    .addColumn('metric_delta', 'jsonb')
    .addColumn('side_effects', 'integer', (c) => c.defaultTo(0))
    .addColumn('confidence', 'double precision', (c) => c.notNull().check(sql`confidence >= 0 and confidence <= 1`))
    .addColumn('learning_contribution', 'double precision', (c) =>
      c.notNull().defaultTo(0.5).check(sql`learning_contribution >= 0 and learning_contribution <= 1`),
    )
    .addColumn('recommended_adjustments', 'jsonb')
    .addColumn('assessed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  const index = (name: string) => db.schema.createIndex(name).on('effectiveness_results');
  await index('idx_effectiveness_results_action_type').column('action_type').execute();
  await index('idx_effectiveness_results_assessed_at').column('assessed_at').execute();
  await index('idx_effectiveness_results_score').column('overall_score').execute();
  await index('idx_effectiveness_results_learning_query').columns(['action_type', 'assessed_at desc']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('effectiveness_results').execute();
}
