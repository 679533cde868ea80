import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/** Provides uuid_generate_v4(), the default of remediation_workflow_catalog.workflow_id. */
export const meta: MigrationMeta = { tables: [], dependsOn: [] };

// IF NOT EXISTS: an extension is database-wide and may have been installed by someone else.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create extension if not exists "uuid-ossp"`.execute(db);
}

// No CASCADE: if something outside these migrations uses it, dropping must fail loudly.
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop extension if exists "uuid-ossp"`.execute(db);
}
