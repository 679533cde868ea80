import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/** The action types a remediation workflow may implement. */
export const meta: MigrationMeta = {
  tables: ['action_type_taxonomy'],
  dependsOn: ['0003_function_update_updated_at'],
};

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('action_type_taxonomy')
    .addColumn('action_type', 'text', (c) => c.primaryKey())
    .addColumn('description', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('Active'))
    .addColumn('disabled_at', 'timestamptz')
    .addColumn('disabled_by', 'text')
    .addColumn('created_at', 'timestamp', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamp', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await sql`create trigger trigger_action_type_taxonomy_updated_at before update on action_type_taxonomy
    for each row execute function update_updated_at()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('action_type_taxonomy').execute();
}
