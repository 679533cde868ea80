import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/** Effectiveness statistics of an action type over a period, per scope. */
export const meta: MigrationMeta = { tables: ['action_effectiveness_metrics'], dependsOn: [] };

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('action_effectiveness_metrics')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('scope_type', 'varchar(50)', (c) => c.notNull())
    .addColumn('scope_value', 'varchar(200)')
    .addColumn('metric_period', 'varchar(20)', (c) => c.notNull())
    .addColumn('period_start', 'timestamptz', (c) => c.notNull())
    .addColumn('period_end', 'timestamptz', (c) => c.notNull())
    .addColumn('action_type', 'varchar(50)', (c) => c.notNull())
    .addColumn('sample_size', 'integer', (c) => c.notNull())
    .addColumn('average_score', 'numeric(4, 3)', (c) => c.notNull())
    .addColumn('median_score', 'numeric(4, 3)')
    .addColumn('std_deviation', 'numeric(4, 3)')
    .addColumn('confidence_interval_lower', 'numeric(4, 3)')
    .addColumn('confidence_interval_upper', 'numeric(4, 3)')
    .addColumn('trend_direction', 'varchar(20)')
    .addColumn('trend_confidence', 'numeric(4, 3)')
    .addColumn('min_sample_size_met', 'boolean')
    .addColumn('statistical_significance', 'numeric(4, 3)')
    .addColumn('created_at', 'timestamptz', (c) => c.defaultTo(sql`now()`))
    // The name Postgres itself would give this constraint (it truncates at 63 bytes).
    .addUniqueConstraint('action_effectiveness_metrics_scope_type_scope_value_metric__key', [
      'scope_type',
      'scope_value',
      'metric_period',
      'period_start',
      'action_type',
    ])
    .execute();

  const index = (name: string) => db.schema.createIndex(name).on('action_effectiveness_metrics');
  await index('idx_aem_scope_period').columns(['scope_type', 'scope_value', 'metric_period']).execute();
  await index('idx_aem_action_effectiveness').columns(['action_type', 'average_score']).execute();
  await index('idx_aem_period_range').columns(['period_start', 'period_end']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('action_effectiveness_metrics').execute();
}
