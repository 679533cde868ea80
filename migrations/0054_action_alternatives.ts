import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/** Which other action worked when an action type failed in a context. */
export const meta: MigrationMeta = { tables: ['action_alternatives'], dependsOn: [] };

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('action_alternatives')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('failed_action_type', 'varchar(100)', (c) => c.notNull())
    .addColumn('context_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('alternative_action_type', 'varchar(100)', (c) => c.notNull())
    // 0.5: no evidence yet either way.
    .addColumn('success_rate', 'double precision', (c) =>
      c.notNull().defaultTo(0.5).check(sql`success_rate >= 0 and success_rate <= 1`),
    )
    .addColumn('sample_size', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_success_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // The name Postgres itself would give this constraint (it truncates at 63 bytes).
    .addUniqueConstraint('action_alternatives_failed_action_type_context_hash_alterna_key', [
      'failed_action_type',
      'context_hash',
      'alternative_action_type',
    ])
    .execute();

  const index = (name: string) => db.schema.createIndex(name).on('action_alternatives');
  await index('idx_action_alternatives_failed').columns(['failed_action_type', 'context_hash']).execute();
  await index('idx_action_alternatives_success_rate').column('success_rate desc').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('action_alternatives').execute();
}
