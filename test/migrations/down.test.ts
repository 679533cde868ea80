import { sql, type Kysely } from 'kysely';
import { expect, test } from 'vitest';
import { applyDirectly, kyselyFor, loadMigrations, revertDirectly } from '../support/apply-directly.ts';
import { freshDatabase } from '../support/fresh-database.ts';
import { catalogLines, fixtureLines } from './catalog-helpers.ts';

/** What catalog.sql leaves out on purpose (partitions, sequences, extensions' own objects). */
async function leftovers(db: Kysely<any>) {
  const { rows } = await sql<{ kind: string; name: string }>`
    select 'relation' as kind, c.relname as name
    from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'
    union all
    select 'function', p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'
    union all
    select 'extension', extname from pg_extension where extname <> 'plpgsql'
    order by 1, 2`.execute(db);
  return rows;
}

test('every down in reverse order returns the database to empty, and it can be built again', async () => {
  await using database = await freshDatabase('down');
  await using db = kyselyFor(database.url);
  const migrations = await loadMigrations();

  await applyDirectly(db, migrations);
  expect(await catalogLines(database.url)).toHaveLength(450);

  await revertDirectly(db, migrations);
  expect(await catalogLines(database.url)).toEqual([]);
  expect(await leftovers(db)).toEqual([]);

  // A second round proves down left nothing behind that up would trip over.
  await applyDirectly(db, migrations);
  expect(await catalogLines(database.url)).toEqual(fixtureLines('ds-v1.catalog.txt').toSorted());
});
