import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/** The oscillation patterns DataStorage looks for, seeded with the four it ships with. */
export const meta: MigrationMeta = {
  tables: ['oscillation_patterns'],
  dependsOn: ['0003_function_update_updated_at'],
};

// pattern_name and pattern_type both carry the identifier: services look the seeds up by it,
// and oscillation_detection_summary groups by pattern_type.
const SEED_PATTERNS = [
  {
    id: 'scale-oscillation',
    description: 'Replica count scaled up and down repeatedly within the window',
    min_occurrences: 3,
    time_window_minutes: 120,
    prevention_strategy: 'cooling-period',
  },
  {
    id: 'resource-thrashing',
    description: 'Resource requests or limits changed back and forth within the window',
    min_occurrences: 2,
    time_window_minutes: 90,
    prevention_strategy: 'alternative-action',
  },
  {
    id: 'ineffective-loop',
    description: 'The same action repeated without improving effectiveness',
    min_occurrences: 4,
    time_window_minutes: 180,
    prevention_strategy: 'escalate-human',
  },
  {
    id: 'cascading-failure',
    description: 'An action followed by failures spreading to related resources',
    min_occurrences: 2,
    time_window_minutes: 60,
    prevention_strategy: 'block-action',
  },
] as const;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('oscillation_patterns')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('pattern_name', 'varchar(200)', (c) => c.notNull())
    .addColumn('pattern_type', 'varchar(50)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('min_occurrences', 'integer', (c) => c.notNull().defaultTo(3))
    .addColumn('time_window_minutes', 'integer', (c) => c.notNull().defaultTo(120))
    .addColumn('action_sequence', 'jsonb')
    .addColumn('resource_types', sql`text[]`)
    .addColumn('namespaces', sql`text[]`)
    .addColumn('label_selectors', 'jsonb')
    .addColumn('threshold_config', 'jsonb')
    .addColumn('prevention_strategy', 'varchar(50)', (c) => c.notNull())
    .addColumn('prevention_parameters', 'jsonb')
    .addColumn('alerting_enabled', 'boolean', (c) => c.defaultTo(true))
    .addColumn('alert_severity', 'varchar(20)', (c) => c.defaultTo('warning'))
    .addColumn('alert_channels', sql`text[]`)
    .addColumn('active', 'boolean', (c) => c.defaultTo(true))
    .addColumn('total_detections', 'integer', (c) => c.defaultTo(0))
    .addColumn('false_positive_rate', 'numeric(4, 3)')
    .addColumn('prevention_success_rate', 'numeric(4, 3)')
    .addColumn('last_detection_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.defaultTo(sql`now()`))
    .execute();

  const index = (name: string) => db.schema.createIndex(name).on('oscillation_patterns');
  await index('idx_op_pattern_type').column('pattern_type').execute();
  await index('idx_op_active_patterns').column('active').execute();
  await index('idx_op_last_detection').column('last_detection_at').execute();

  await sql`create trigger update_oscillation_patterns_updated_at before update on oscillation_patterns
    for each row execute function update_updated_at()`.execute(db);

  await db
    .insertInto('oscillation_patterns')
    .values(
      SEED_PATTERNS.map((p) => ({
        pattern_name: p.id,
        pattern_type: p.id,
        description: p.description,
        min_occurrences: p.min_occurrences,
        time_window_minutes: p.time_window_minutes,
        prevention_strategy: p.prevention_strategy,
        active: true,
        alert_severity: 'warning',
      })),
    )
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('oscillation_patterns').execute();
}
