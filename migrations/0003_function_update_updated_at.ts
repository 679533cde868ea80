import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/**
 * The trigger function shared by action_histories, action_type_taxonomy and
 * oscillation_patterns; it lives on its own so that each of them can be selected alone.
 */
export const meta: MigrationMeta = { tables: [], dependsOn: [] };

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function update_updated_at() returns trigger
    language plpgsql as $$
    begin
      new.updated_at := now();
      return new;
    end
    $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function update_updated_at()`.execute(db);
}
