import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/** How long DataStorage keeps audit events of each category. */
export const meta: MigrationMeta = { tables: ['audit_retention_policies'], dependsOn: [] };

/** One policy per event category; 2555 days is the seven years audit rules ask for. */
const SEED_CATEGORIES = ['gateway', 'workflow', 'remediation', 'analysis', 'notification', 'apifrontend'] as const;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_retention_policies')
    .addColumn('policy_id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('event_category', 'text', (c) => c.notNull().unique())
    .addColumn('retention_days', 'integer', (c) => c.notNull())
    .addColumn('legal_hold_override', 'boolean', (c) => c.defaultTo(false))
    .addColumn('created_at', 'timestamp', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamp', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db
    .insertInto('audit_retention_policies')
    .values(SEED_CATEGORIES.map((category) => ({ event_category: category, retention_days: 2555, legal_hold_override: false })))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_retention_policies').execute();
}
