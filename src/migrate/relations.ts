import type { Postgres } from '../postgres/connect.ts';
import { readApplied, type AppliedState } from './applied.ts';
import { GOOSE_TABLE } from './goose/goose-ledger.ts';
import { CHECKSUM_TABLE, LEDGER_LOCK_TABLE, LEDGER_TABLE, RELATIONS_TABLE } from './ledger.ts';
import type { GooseSet } from './loaded-migration.ts';

/*
 * What a goose directory leaves in the database, recorded rather than guessed: when a goose
 * migration is applied, the relations the current schema holds right after it (tables,
 * partitioned tables, views, materialized views; a partition is part of its parent, not a
 * relation of its own) are written to `e2e_migration_relations` in the migration's own
 * transaction. The record of the newest applied migration is what the directory leaves, so
 * a later file's DROP, RENAME or DROP … CASCADE is accounted for without reading its SQL.
 */

/** Bookkeeping tables, never part of what a migration leaves. */
export const BOOKKEEPING_TABLES: readonly string[] = Object.freeze([LEDGER_TABLE, LEDGER_LOCK_TABLE, CHECKSUM_TABLE, RELATIONS_TABLE, GOOSE_TABLE]);

/**
 * A scalar subquery: the current schema's relations, sorted, as one text[]. `excluded` is the
 * placeholder of a text[] parameter holding {@link BOOKKEEPING_TABLES}.
 */
export function currentRelationsSql(excluded: string): string {
  return `(select coalesce(array_agg(c.relname::text order by c.relname), '{}')
    from pg_class c
    where c.relnamespace = (select oid from pg_namespace where nspname = current_schema())
      and c.relkind in ('r', 'p', 'v', 'm')
      and not c.relispartition
      and c.relname <> all (${excluded}::text[]))`;
}

/** The relations `name` (a ledger name) recorded, or undefined when it recorded none. */
export async function readRelations(pg: Postgres, name: string): Promise<readonly string[] | undefined> {
  const { rows: present } = await pg.query<{ t: string | null }>('select to_regclass($1)::text as t', [RELATIONS_TABLE]);
  if (!present[0]?.t) return undefined;
  const { rows } = await pg.query<{ relations: string[] }>(`select relations from ${pg.client.escapeIdentifier(RELATIONS_TABLE)} where name = $1`, [name]);
  return rows[0] ? Object.freeze(rows[0].relations) : undefined;
}

/** What a goose directory leaves, as recorded after its newest applied migration. */
export interface RelationsLeft {
  /** The newest applied migration, `NNN_x.sql` (or `version N` when no file has it); undefined when none is applied. */
  readonly after?: string;
  /**
   * The relations recorded right after it; undefined when it was applied without recording
   * them (by goose itself, or by e2e-migrations 0.1.0).
   */
  readonly relations?: readonly string[];
}

/** Reads the record of the newest applied migration of a goose set (`state` when already read). */
export async function relationsLeft(pg: Postgres, set: GooseSet, state?: AppliedState): Promise<RelationsLeft> {
  const newest = (state ?? (await readApplied(pg, set))).applied.at(-1);
  if (!newest) return Object.freeze({});
  const after = newest.migration ? `${newest.migration.name}.sql` : `version ${newest.version}`;
  const relations = newest.entry ? await readRelations(pg, newest.entry.name) : undefined;
  return Object.freeze({ after, ...(relations ? { relations } : {}) });
}
