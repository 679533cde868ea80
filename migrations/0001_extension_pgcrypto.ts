import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

// The DS schema installs pgcrypto alongside its tables. No default here needs it: on
// Postgres 13+ gen_random_uuid() is built in, so no table migration depends on this one.
export const meta: MigrationMeta = { tables: [], dependsOn: [] };

// IF NOT EXISTS: an extension is database-wide and may have been installed by someone else.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create extension if not exists pgcrypto`.execute(db);
}

// No CASCADE: if something outside these migrations uses it, dropping must fail loudly.
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop extension if exists pgcrypto`.execute(db);
}
