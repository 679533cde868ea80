import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/** Detections and prevention outcomes per pattern type, for dashboards. */
export const meta: MigrationMeta = {
  tables: ['oscillation_detection_summary'],
  dependsOn: ['0042_oscillation_patterns', '0043_oscillation_detections'],
};

// LEFT JOIN so that a pattern type never seen yet still shows, with zero detections.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createView('oscillation_detection_summary')
    .as(
      sql`
        select op.pattern_type,
               count(od.id) as total_detections,
               count(od.id) filter (where od.prevention_applied) as preventions_applied,
               count(od.id) filter (where od.prevention_successful) as successful_preventions,
               avg(od.confidence) as avg_confidence,
               max(od.detected_at) as last_detection
        from oscillation_patterns op
        left join oscillation_detections od on od.pattern_id = op.id
        group by op.pattern_type`,
    )
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropView('oscillation_detection_summary').execute();
}
