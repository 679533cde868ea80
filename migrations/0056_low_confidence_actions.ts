import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/** Action/context pairs whose learned confidence is low, with their last week of outcomes. */
export const meta: MigrationMeta = {
  tables: ['low_confidence_actions'],
  dependsOn: ['0052_action_confidence_scores', '0053_action_outcomes'],
};

// LEFT JOIN: a pair with no recent outcome is still low-confidence and must show, with
// recent_samples 0 and recent_success_rate NULL.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createView('low_confidence_actions')
    .as(
      sql`
        select acs.action_type,
               acs.context_hash,
               acs.adjusted_confidence,
               acs.adjustment_reason,
               acs.effectiveness_samples,
               acs.last_updated,
               avg(case when ao.success then 1 else 0 end) filter (where ao.id is not null) as recent_success_rate,
               count(ao.id) as recent_samples
        from action_confidence_scores acs
        left join action_outcomes ao
          on ao.action_type = acs.action_type
         and ao.context_hash = acs.context_hash
         and ao.executed_at >= now() - interval '7 days'
        where acs.adjusted_confidence < 0.5
        group by acs.id, acs.action_type, acs.context_hash, acs.adjusted_confidence,
                 acs.adjustment_reason, acs.effectiveness_samples, acs.last_updated`,
    )
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropView('low_confidence_actions').execute();
}
