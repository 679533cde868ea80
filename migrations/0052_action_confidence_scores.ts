import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/** Learned confidence of an action type in a context (one row per pair). */
export const meta: MigrationMeta = { tables: ['action_confidence_scores'], dependsOn: [] };

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('action_confidence_scores')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('action_type', 'varchar(100)', (c) => c.notNull())
    .addColumn('context_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('base_confidence', 'double precision', (c) =>
      c.notNull().check(sql`base_confidence >= 0 and base_confidence <= 1`),
    )
    .addColumn('adjusted_confidence', 'double precision', (c) =>
      c.notNull().check(sql`adjusted_confidence >= 0 and adjusted_confidence <= 1`),
    )
    .addColumn('effectiveness_samples', 'integer', (c) => c.defaultTo(0))
    .addColumn('last_updated', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('adjustment_reason', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('action_confidence_scores_action_type_context_hash_key', ['action_type', 'context_hash'])
    .execute();

  const index = (name: string) => db.schema.createIndex(name).on('action_confidence_scores');
  await index('idx_action_confidence_context').columns(['action_type', 'context_hash']).execute();
  await index('idx_action_confidence_updated').column('last_updated').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('action_confidence_scores').execute();
}
