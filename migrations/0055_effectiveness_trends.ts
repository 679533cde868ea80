import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/** Daily effectiveness per action type. */
export const meta: MigrationMeta = {
  tables: ['effectiveness_trends'],
  dependsOn: ['0050_effectiveness_results'],
};

// resolution_rate divides as double precision so that it is a ratio, not an integer division.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createView('effectiveness_trends')
    .as(
      sql`
        select action_type,
               date_trunc('day', assessed_at) as assessment_date,
               count(*) as total_assessments,
               avg(overall_score) as avg_effectiveness,
               avg(confidence) as avg_confidence,
               count(*) filter (where alert_resolved) as alerts_resolved,
               (count(*) filter (where alert_resolved))::double precision / count(*) as resolution_rate
        from effectiveness_results
        group by action_type, date_trunc('day', assessed_at)`,
    )
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropView('effectiveness_trends').execute();
}
