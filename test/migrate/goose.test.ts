import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { MigrationError } from '../../src/errors/errors.ts';
import { connect } from '../../src/postgres/connect.ts';
import { createdRelations, parseGooseFile } from '../../src/migrate/goose/goose-parser.ts';
import { readLedger } from '../../src/migrate/ledger.ts';
import { loadMigrations } from '../../src/migrate/load-migrations.ts';
import { migrate, rollback } from '../../src/migrate/migrate.ts';
import { selectMigrations } from '../../src/migrate/select-migrations.ts';
import { freshDatabase } from '../support/fresh-database.ts';

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

  test('finds the relations a file creates, leaving partitions out', () => {
    expect(
      createdRelations([
        'CREATE TABLE IF NOT EXISTS public.audit_events (id int) PARTITION BY RANGE (d);',
        'CREATE TABLE audit_events_2026_01 PARTITION OF audit_events FOR VALUES FROM (1) TO (2);',
        'create or replace view "Mixed_Case" as select 1;',
        'CREATE UNLOGGED TABLE scratch (a int);',
      ]),
    ).toEqual(['audit_events', 'Mixed_Case', 'scratch']);
  });
});

describe('goose directory as a migration source', () => {
  test('applies in numeric order through the same ledger, with blocks and NO TRANSACTION, and rolls back', async () => {
    const fresh = await freshDatabase('goose');
    const db = await connect(fresh.connection);
    cleanups.push(() => fresh.drop(), () => db.close());
    const set = await loadMigrations(fixture('goose-basic'));
    expect(set.kind).toBe('goose');
    expect(set.migrations.map((m) => [m.name, m.tables, m.dependsOn, m.transactional])).toEqual([
      ['1_create_items', ['items'], [], true],
      ['2_create_tags', ['tags'], ['1_create_items'], true],
      ['10_index_items_concurrently', [], ['2_create_tags'], false],
    ]);

    const result = await migrate(db, set, selectMigrations(set, []), { now: new Date('2025-06-15T12:00:00Z'), partitions: { monthsBack: 1, monthsAhead: 3 } });
    expect(result.applied).toEqual(['1_create_items', '2_create_tags', '10_index_items_concurrently']);
    const { rows } = await db.query<{ indexname: string }>(`select indexname from pg_indexes where tablename = 'items' order by 1`);
    expect(rows.map((r) => r.indexname)).toEqual(['idx_items_name', 'items_pkey']);
    // The StatementBegin block created a working trigger function.
    await db.query(`insert into items (name, updated_at) values ('a', '2000-01-01')`);
    await db.query(`update items set name = 'b'`);
    const { rows: touched } = await db.query<{ fresh: boolean }>(`select updated_at > '2001-01-01' as fresh from items`);
    expect(touched[0]?.fresh).toBe(true);
    expect([...(await readLedger(db)).values()].every((entry) => entry.checksum?.length === 64)).toBe(true);

    await db.query(`delete from items`);
    expect(await rollback(db, set)).toEqual(['10_index_items_concurrently', '2_create_tags', '1_create_items']);
    const { rows: left } = await db.query<{ n: number }>(`select count(*)::int as n from pg_tables where tablename in ('items', 'tags')`);
    expect(left[0]?.n).toBe(0);
  });

  test('selecting a table applies the goose files up to the one that creates it', async () => {
    const set = await loadMigrations(fixture('goose-basic'));
    expect(selectMigrations(set, ['items']).map((m) => m.name)).toEqual(['1_create_items']);
    expect(selectMigrations(set, ['tags']).map((m) => m.name)).toEqual(['1_create_items', '2_create_tags']);
  });

  test('a directory with an unterminated StatementBegin is refused before anything runs', async () => {
    await expect(loadMigrations(fixture('goose-unterminated'))).rejects.toThrow(
      'goose file 001_broken.sql, line 2: StatementBegin is never closed by "-- +goose StatementEnd"',
    );
  });
});
