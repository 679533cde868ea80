import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/** Each time a pattern was seen on a resource, and what prevention did about it. */
export const meta: MigrationMeta = {
  tables: ['oscillation_detections'],
  dependsOn: ['0040_resource_references', '0042_oscillation_patterns'],
};

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('oscillation_detections')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('pattern_id', 'bigint', (c) => c.notNull().references('oscillation_patterns.id').onDelete('cascade'))
    .addColumn('resource_id', 'bigint', (c) => c.notNull().references('resource_references.id').onDelete('cascade'))
    .addColumn('detected_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('confidence', 'numeric(4, 3)', (c) => c.notNull())
    .addColumn('action_count', 'integer', (c) => c.notNull())
    .addColumn('time_span_minutes', 'integer', (c) => c.notNull())
    .addColumn('matching_actions', sql`bigint[]`)
    .addColumn('pattern_evidence', 'jsonb')
    .addColumn('prevention_applied', 'boolean', (c) => c.defaultTo(false))
    .addColumn('prevention_action', 'varchar(50)')
    .addColumn('prevention_details', 'jsonb')
    .addColumn('prevention_successful', 'boolean')
    .addColumn('resolved', 'boolean', (c) => c.defaultTo(false))
    .addColumn('resolved_at', 'timestamptz')
    .addColumn('resolution_method', 'varchar(50)')
    .addColumn('resolution_notes', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.defaultTo(sql`now()`))
    .execute();

  const index = (name: string) => db.schema.createIndex(name).on('oscillation_detections');
  await index('idx_od_pattern_resource').columns(['pattern_id', 'resource_id']).execute();
  await index('idx_od_detected_at').column('detected_at').execute();
  await index('idx_od_unresolved').column('resolved').where(sql<boolean>`resolved = false`).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('oscillation_detections').execute();
}
