import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { migrationStatus, rollbackMigrations } from '../../src/index.ts';
import { MigrationError } from '../../src/errors/errors.ts';
import { connect, type Postgres } from '../../src/postgres/connect.ts';
import { parseGooseFile } from '../../src/migrate/goose/goose-parser.ts';
import { readLedger } from '../../src/migrate/ledger.ts';
import { loadMigrations } from '../../src/migrate/load-migrations.ts';
import { migrate, rollback, type MigrateOptions } from '../../src/migrate/migrate.ts';
import { selectMigrations } from '../../src/migrate/select-migrations.ts';
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts';
import { gooseDirectory, gooseFile } from './goose/goose-directory.ts';

const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('goose parser', () => {
  test('splits sections and statements, keeps StatementBegin blocks whole', () => {
    const file = parseGooseFile(
      '0007_mixed.sql',
      [
        '-- a header comment',
        '-- +goose Up',
        "INSERT INTO t VALUES ('a;b'); -- trailing comment",
        'CREATE TABLE x (',
        '  id int',
        ');',
        '-- +goose StatementBegin',
        'CREATE FUNCTION f() RETURNS int AS $$',
        'BEGIN RETURN 1; END;',
        '$$ LANGUAGE plpgsql;',
        '-- +goose StatementEnd',
        '-- +goose Down',
        'DROP FUNCTION f();',
        'DROP TABLE x;',
      ].join('\n'),
    );
    expect(file.version).toBe(7n);
    expect(file.transactional).toBe(true);
    expect(file.up).toEqual([
      "INSERT INTO t VALUES ('a;b'); -- trailing comment",
      'CREATE TABLE x (\n  id int\n);',
      'CREATE FUNCTION f() RETURNS int AS $$\nBEGIN RETURN 1; END;\n$$ LANGUAGE plpgsql;',
    ]);
    expect(file.down).toEqual(['DROP FUNCTION f();', 'DROP TABLE x;']);
  });

  test('NO TRANSACTION is read from anywhere in the file', () => {
    expect(parseGooseFile('1_x.sql', '-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- +goose NO TRANSACTION\n').transactional).toBe(false);
  });

  test.each([
    ['1_a.sql', '-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n', 'goose file 1_a.sql, line 2: StatementBegin is never closed by "-- +goose StatementEnd"'],
    ['1_a.sql', '-- +goose Up\nSELECT 1;\n-- +goose StatementEnd\n', 'goose file 1_a.sql, line 3: StatementEnd without a StatementBegin'],
    ['1_a.sql', 'SELECT 1;\n-- +goose Up\n', 'goose file 1_a.sql, line 1: SQL before the "-- +goose Up" annotation'],
    ['1_a.sql', '-- +goose Down\nDROP TABLE t;\n', 'goose file 1_a.sql, line 1: no "-- +goose Up" annotation'],
    ['1_a.sql', '-- +goose Up\nSELECT 1\n', 'goose file 1_a.sql, line 2: statement not terminated by ";" at the end of the file'],
    ['1_a.sql', '-- +goose Up\n-- +goose ENVSUB\n', 'ENVSUB'],
    ['create_x.sql', '-- +goose Up\n', 'goose file create_x.sql: name must look like NNN_description.sql'],
  ])('%s is refused with the file and line: %s', (name, text, message) => {
    expect(() => parseGooseFile(name, text)).toThrow(MigrationError);
    expect(() => parseGooseFile(name, text)).toThrow(message);
  });
});

/** What every run passes: a fixed clock, the default window. */
const OPTIONS: MigrateOptions = { now: new Date('2025-06-15T12:00:00Z'), partitions: { monthsBack: 1, monthsAhead: 3 } };

async function database(): Promise<{ fresh: FreshDatabase; db: Postgres }> {
  const fresh = await freshDatabase('goose');
  const db = await connect(fresh.connection);
  cleanups.push(() => fresh.drop(), () => db.close());
  return { fresh, db };
}

/** goose_db_version as goose reads it: (version, is_applied) in id order. */
async function gooseRows(db: Postgres): Promise<[string, boolean][]> {
  const { rows } = await db.query<{ v: string; a: boolean }>('select version_id::text as v, is_applied as a from goose_db_version order by id');
  return rows.map((r) => [r.v, r.a]);
}

async function tablesIn(db: Postgres): Promise<string[]> {
  const { rows } = await db.query<{ t: string }>(`select tablename as t from pg_tables where schemaname = 'public' and tablename not like 'e2e_migration%' and tablename <> 'goose_db_version' order by 1`);
  return rows.map((r) => r.t);
}

async function migrateAll(db: Postgres, directory: string, options: Partial<MigrateOptions> = {}) {
  const set = await loadMigrations(directory);
  return migrate(db, set, selectMigrations(set, []), { ...OPTIONS, ...options });
}

const ITEMS = gooseFile('CREATE TABLE items (id int PRIMARY KEY);', 'DROP TABLE items;');
const TAGS = gooseFile('CREATE TABLE tags (id int PRIMARY KEY, item_id int REFERENCES items (id));', 'DROP TABLE tags;');
const NOTES = gooseFile('CREATE TABLE notes (id int);', 'DROP TABLE notes;');

describe('goose directory as a migration source', () => {
  test('applies in version order with blocks and NO TRANSACTION, records both ledgers, and rolls back newest version first', async () => {
    const { db } = await database();
    const set = await loadMigrations(fixture('goose-basic'));
    expect(set.kind).toBe('goose');
    expect(set.migrations.map((m) => [m.name, m.version, m.dependsOn, m.transactional])).toEqual([
      ['1_create_items', 1n, [], true],
      ['2_create_tags', 2n, ['1_create_items'], true],
      ['10_index_items_concurrently', 10n, ['2_create_tags'], false],
    ]);

    const result = await migrate(db, set, selectMigrations(set, []), OPTIONS);
    expect(result.applied).toEqual(['1_create_items', '2_create_tags', '10_index_items_concurrently']);
    // What the directory leaves, read from the database after its newest file.
    expect(result.tables).toEqual(['items', 'tags']);
    const { rows } = await db.query<{ indexname: string }>(`select indexname from pg_indexes where tablename = 'items' order by 1`);
    expect(rows.map((r) => r.indexname)).toEqual(['idx_items_name', 'items_pkey']);
    // The StatementBegin block created a working trigger function.
    await db.query(`insert into items (name, updated_at) values ('a', '2000-01-01')`);
    await db.query(`update items set name = 'b'`);
    const { rows: touched } = await db.query<{ fresh: boolean }>(`select updated_at > '2001-01-01' as fresh from items`);
    expect(touched[0]?.fresh).toBe(true);
    expect([...(await readLedger(db)).values()].every((entry) => entry.checksum?.length === 64)).toBe(true);
    // goose's ledger, as `goose up` leaves it: its row for version 0, then one per version.
    expect(await gooseRows(db)).toEqual([['0', true], ['1', true], ['2', true], ['10', true]]);

    await db.query(`delete from items`);
    expect(await rollback(db, set)).toEqual(['10_index_items_concurrently', '2_create_tags', '1_create_items']);
    expect(await tablesIn(db)).toEqual([]);
    expect(await gooseRows(db)).toEqual([['0', true]]);
    expect((await readLedger(db)).size).toBe(0);
    const { rows: records } = await db.query('select * from e2e_migration_relations');
    expect(records).toEqual([]);
  });

  test('a goose directory is applied whole, whatever tables are declared: its later files alter earlier tables', async () => {
    const set = await loadMigrations(fixture('goose-basic'));
    expect(selectMigrations(set, ['items']).map((m) => m.name)).toEqual(['1_create_items', '2_create_tags', '10_index_items_concurrently']);
    expect(selectMigrations(set, ['no_such_table'])).toHaveLength(3);
  });

  test('a directory with an unterminated StatementBegin is refused before anything runs', async () => {
    await expect(loadMigrations(fixture('goose-unterminated'))).rejects.toThrow(
      'goose file 001_broken.sql, line 2: StatementBegin is never closed by "-- +goose StatementEnd"',
    );
  });

  test('a failed file leaves nothing of itself in either ledger; a NO TRANSACTION file says what stays', async () => {
    const { db } = await database();
    await using dir = await gooseDirectory({ '1_items.sql': ITEMS, '2_broken.sql': gooseFile('CREATE TABLE half (id int);\nINSERT INTO nowhere VALUES (1);') });
    const error = await migrateAll(db, dir.path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toContain('could not apply migration "2_broken": relation "nowhere" does not exist');
    expect((error as Error).message).toContain('statement 2 of 2, 2_broken.sql:3');
    expect((error as Error).message).toContain('its transaction was rolled back');
    expect(await tablesIn(db)).toEqual(['items']);
    expect(await gooseRows(db)).toEqual([['0', true], ['1', true]]);
    expect([...(await readLedger(db)).keys()]).toEqual(['1_items']);

    await using noTx = await gooseDirectory({
      '1_items.sql': ITEMS,
      '2_broken.sql': gooseFile('CREATE TABLE half (id int);\nINSERT INTO nowhere VALUES (1);', '', { noTransaction: true }),
    });
    const again = await migrateAll(db, noTx.path).catch((e: unknown) => e);
    expect((again as Error).message).toContain('NO TRANSACTION): the statements before the failed one stay applied, and it is not recorded as applied');
    expect(await tablesIn(db)).toEqual(['half', 'items']);
    expect(await gooseRows(db)).toEqual([['0', true], ['1', true]]);
  });
});

describe('a goose migration is its version', () => {
  test('renaming an applied file changes nothing: nothing re-runs, status shows the new name, down --to takes either name or the version', async () => {
    const { fresh, db } = await database();
    await using before = await gooseDirectory({ '1_create_items.sql': ITEMS, '2_create_tags.sql': TAGS, '3_create_notes.sql': NOTES });
    await migrateAll(db, before.path);
    await using after = await gooseDirectory({ '001_make_items.sql': ITEMS, '2_create_tags.sql': TAGS, '3_notes.sql': NOTES });

    const rerun = await migrateAll(db, after.path);
    expect(rerun.applied).toEqual([]);
    expect(rerun.alreadyApplied).toEqual(['001_make_items', '2_create_tags', '3_notes']);
    const status = await migrationStatus({ url: fresh.url, migrations: after.path, logger: false });
    expect(status.map((s) => [s.name, s.applied, s.checksum])).toEqual([
      ['001_make_items', true, 'ok'],
      ['2_create_tags', true, 'ok'],
      ['3_notes', true, 'ok'],
    ]);

    // The new name, as `down --to` takes it.
    expect(await rollbackMigrations({ url: fresh.url, migrations: after.path, to: '2_create_tags', logger: false })).toEqual(['3_notes']);
    const set = await loadMigrations(after.path);
    // The old name, as the ledger recorded it; and a bare version, as `goose down-to` takes it.
    expect(await rollback(db, set, { to: '1_create_items' })).toEqual(['2_create_tags']);
    expect(await migrateAll(db, after.path)).toMatchObject({ applied: ['2_create_tags', '3_notes'] });
    expect(await rollback(db, set, { to: '1' })).toEqual(['3_notes', '2_create_tags']);
    expect(await tablesIn(db)).toEqual(['items']);
    expect(await gooseRows(db)).toEqual([['0', true], ['1', true]]);
    await expect(rollback(db, set, { to: '2' })).rejects.toThrow('cannot roll back to "2": it is not applied (applied: 001_make_items)');
    expect(await rollback(db, set)).toEqual(['001_make_items']);
    expect((await readLedger(db)).size).toBe(0);
  });

  test('a ledger of e2e-migrations 0.1.0 (file base names, no goose_db_version) reads as versions, and goose gets its table', async () => {
    const { db } = await database();
    await using v1 = await gooseDirectory({ '1_create_items.sql': ITEMS, '2_create_tags.sql': TAGS });
    await migrateAll(db, v1.path);
    // What 0.1.0 left: our ledger by file name, nothing for goose, no relations record.
    await db.query('drop table goose_db_version; drop table e2e_migration_relations');
    expect([...(await readLedger(db)).keys()]).toEqual(['1_create_items', '2_create_tags']);

    // Nothing to apply: goose's table is still created, with the versions applied.
    expect((await migrateAll(db, v1.path)).applied).toEqual([]);
    expect(await gooseRows(db)).toEqual([['0', true], ['1', true], ['2', true]]);

    await db.query('drop table goose_db_version');
    await using v2 = await gooseDirectory({ '0001_items.sql': ITEMS, '0002_tags.sql': TAGS, '0003_notes.sql': NOTES });
    expect((await migrateAll(db, v2.path)).applied).toEqual(['0003_notes']);
    expect(await gooseRows(db)).toEqual([['0', true], ['1', true], ['2', true], ['3', true]]);
    expect(await tablesIn(db)).toEqual(['items', 'notes', 'tags']);
  });

  test('a never-applied version below the newest applied one is refused, naming it; allowMissing applies it', async () => {
    const { db } = await database();
    await using gap = await gooseDirectory({ '1_items.sql': ITEMS, '3_notes.sql': NOTES });
    await migrateAll(db, gap.path);
    await using filled = await gooseDirectory({ '1_items.sql': ITEMS, '2_tags.sql': TAGS, '3_notes.sql': NOTES, '4_more.sql': gooseFile('CREATE TABLE more (id int);') });

    const refused = await migrateAll(db, filled.path).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MigrationError);
    expect((refused as Error).message).toBe(
      'goose migration 2_tags.sql (version 2) is not applied, but version 3 (3_notes.sql) is: goose refuses to apply a version below the newest applied one, ' +
        'and so does this tool. Apply it anyway with allowMissing: true (--allow-missing), as `goose up -allow-missing` does, or give it a version above 3',
    );
    expect((refused as MigrationError).details).toMatchObject({ migration: '2_tags' });
    expect(await tablesIn(db)).toEqual(['items', 'notes']);

    const allowed = await migrateAll(db, filled.path, { allowMissing: true });
    expect(allowed.applied).toEqual(['2_tags', '4_more']);
    expect(await gooseRows(db)).toEqual([['0', true], ['1', true], ['3', true], ['2', true], ['4', true]]);
    // Rolled back as goose does: the newest version first, not the last applied.
    expect(await rollback(db, await loadMigrations(filled.path), { to: '1_items' })).toEqual(['4_more', '3_notes', '2_tags']);
  });

  test('version 0 is refused when the directory is loaded', async () => {
    await using dir = await gooseDirectory({ '0_init.sql': ITEMS, '1_items.sql': ITEMS });
    await expect(loadMigrations(dir.path)).rejects.toThrow('goose file 0_init.sql: version 0 must be greater than zero');
  });

  test('two files with one version are refused, naming both', async () => {
    await using dir = await gooseDirectory({ '1_items.sql': ITEMS, '001_items_again.sql': ITEMS });
    await expect(loadMigrations(dir.path)).rejects.toThrow(/goose files (001_items_again|1_items)\.sql and (001_items_again|1_items)\.sql share version 1/);
  });
});
