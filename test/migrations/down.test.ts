import pg from 'pg';
import { expect, test } from 'vitest';
import { applyMigrations, availableMigrations, migrationStatus, rollbackMigrations } from '../../src/index.ts';
import { freshDatabase } from '../support/fresh-database.ts';
import { catalogLines, fixtureLines } from './catalog-helpers.ts';

const NOW = new Date('2025-06-15T12:00:00Z');

/** What catalog.sql leaves out on purpose (partitions, sequences, extensions' own objects, the ledger). */
async function leftovers(url: string): Promise<{ kind: string; name: string }[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ kind: string; name: string }>(`
      select 'relation' as kind, c.relname as name
      from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'
      union all
      select 'function', p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'
      union all
      select 'extension', extname from pg_extension where extname <> 'plpgsql'
      order by 1, 2`);
    return rows;
  } finally {
    await client.end();
  }
}

test('rolling back every migration leaves only the empty ledger, and the schema can be built again', async () => {
  await using database = await freshDatabase('down');
  const run = { url: database.url, logger: false } as const;
  const everything = (await availableMigrations()).map((m) => m.name);

  const first = await applyMigrations({ ...run, tables: 'all', now: NOW });
  expect(first.applied).toEqual(everything);
  expect(await catalogLines(database.url)).toHaveLength(450);

  // Every down, newest first: what the ledger recorded, in reverse.
  expect(await rollbackMigrations(run)).toEqual(everything.toReversed());
  expect(await catalogLines(database.url)).toEqual([]);
  // Not a table, partition, function or extension of the schema is left; the engine's own
  // bookkeeping stays, with nothing recorded in it.
  expect(await leftovers(database.url)).toEqual(
    ['e2e_migration', 'e2e_migration_checksum', 'e2e_migration_checksum_pkey', 'e2e_migration_lock', 'e2e_migration_lock_pkey', 'e2e_migration_pkey'].map(
      (name) => ({ kind: 'relation', name }),
    ),
  );
  expect((await migrationStatus(run)).filter((s) => s.applied || s.checksum !== 'pending')).toEqual([]);

  // A second round proves down left nothing behind that up would trip over.
  const second = await applyMigrations({ ...run, tables: 'all', now: NOW });
  expect(second.applied).toEqual(everything);
  expect(await catalogLines(database.url)).toEqual(fixtureLines('ds-v1.catalog.txt').toSorted());
  expect((await migrationStatus(run)).every((s) => s.applied && s.checksum === 'ok')).toBe(true);
});
