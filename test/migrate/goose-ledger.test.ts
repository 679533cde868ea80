import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, test } from 'vitest';
import { migrationStatus, verifyMigrations } from '../../src/index.ts';
import { connect, type Postgres } from '../../src/postgres/connect.ts';
import { readLedger } from '../../src/migrate/ledger.ts';
import { loadMigrations } from '../../src/migrate/load-migrations.ts';
import { migrate, rollback, type MigrateOptions } from '../../src/migrate/migrate.ts';
import { selectMigrations } from '../../src/migrate/select-migrations.ts';
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts';
import { collector } from '../support/log-sink.ts';
import { GOOSE_TABLE_SQL, gooseDirectory, gooseFile } from './goose/goose-directory.ts';

const OPTIONS: MigrateOptions = { now: new Date('2025-06-15T12:00:00Z'), partitions: { monthsBack: 1, monthsAhead: 3 } };
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const UP = ['CREATE TABLE items (id int PRIMARY KEY);', 'CREATE TABLE tags (id int PRIMARY KEY);', 'CREATE TABLE notes (id int);'];
const HISTORY = {
  '00001_items.sql': gooseFile(UP[0]!, 'DROP TABLE items;'),
  '00002_tags.sql': gooseFile(UP[1]!, 'DROP TABLE tags;'),
  '00003_notes.sql': gooseFile(UP[2]!, 'DROP TABLE notes;', { noTransaction: true }),
};

async function database(): Promise<{ fresh: FreshDatabase; db: Postgres }> {
  const fresh = await freshDatabase('goose_ledger');
  const db = await connect(fresh.connection);
  cleanups.push(() => fresh.drop(), () => db.close());
  return { fresh, db };
}

/** A database `goose up` migrated through `through`, made by hand: goose's table and rows, and the files' SQL. */
async function migratedByGoose(db: Postgres, through: number, extraRows: readonly [number, boolean][] = []): Promise<void> {
  await db.query(GOOSE_TABLE_SQL);
  await db.query('INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true)');
  for (let version = 1; version <= through; version++) {
    await db.query(UP[version - 1]!);
    await db.query('INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)', [version]);
  }
  for (const [version, applied] of extraRows) await db.query('INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, $2)', [version, applied]);
}

async function gooseRows(db: Postgres): Promise<[string, boolean][]> {
  const { rows } = await db.query<{ v: string; a: boolean }>('select version_id::text as v, is_applied as a from goose_db_version order by id');
  return rows.map((r) => [r.v, r.a]);
}

async function migrateAll(db: Postgres, directory: string) {
  const set = await loadMigrations(directory);
  return migrate(db, set, selectMigrations(set, []), OPTIONS);
}

describe("goose's ledger, goose_db_version", () => {
  test('versions goose applied count as applied and are not re-run; what this tool applies is recorded there too', async () => {
    const { fresh, db } = await database();
    await migratedByGoose(db, 2);
    await using dir = await gooseDirectory(HISTORY);
    const result = await migrateAll(db, dir.path);
    expect(result.applied).toEqual(['00003_notes']);
    expect(result.alreadyApplied).toEqual(['00001_items', '00002_tags']);
    expect(await gooseRows(db)).toEqual([['0', true], ['1', true], ['2', true], ['3', true]]);
    // Our ledger holds what this tool applied, with its checksum; goose's versions have none.
    expect([...(await readLedger(db)).keys()]).toEqual(['00003_notes']);
    const status = await migrationStatus({ url: fresh.url, migrations: dir.path, logger: false });
    expect(status.map((s) => [s.name, s.applied, s.checksum])).toEqual([
      ['00001_items', true, 'unrecorded'],
      ['00002_tags', true, 'unrecorded'],
      ['00003_notes', true, 'ok'],
    ]);
    // The newest version was recorded by this tool, so verify knows everything it left.
    expect(result.tables).toEqual(['items', 'notes', 'tags']);
    await verifyMigrations({ url: fresh.url, migrations: dir.path, logger: false });
  });

  test('the latest row of a version decides, as for goose: an old-style (version, false) row means rolled back', async () => {
    const { db } = await database();
    await migratedByGoose(db, 1, [[2, true], [2, false]]);
    await using dir = await gooseDirectory(HISTORY);
    expect((await migrateAll(db, dir.path)).applied).toEqual(['00002_tags', '00003_notes']);
    expect(await gooseRows(db)).toEqual([['0', true], ['1', true], ['2', true], ['2', false], ['2', true], ['3', true]]);
  });

  test('a database goose migrated whole: nothing to apply, and verify checks the declared tables, saying why', async () => {
    const { fresh, db } = await database();
    await migratedByGoose(db, 3);
    await using dir = await gooseDirectory(HISTORY);
    const result = await migrateAll(db, dir.path);
    expect(result.applied).toEqual([]);
    expect(result.tables).toEqual([]);
    const log = collector();
    await verifyMigrations({ url: fresh.url, migrations: dir.path, tables: ['items'], logger: log });
    expect(log.text()).toContain('1 table match; no record of the relations after 00003_notes.sql (applied without e2e-migrations), so only the declared tables were checked');
    await expect(verifyMigrations({ url: fresh.url, migrations: dir.path, tables: ['nope'], logger: false })).rejects.toThrow('missing table nope');
  });

  test('rolling back deletes the version from goose_db_version, as goose does, also for versions goose applied', async () => {
    const { db } = await database();
    await migratedByGoose(db, 2);
    await using dir = await gooseDirectory(HISTORY);
    await migrateAll(db, dir.path);
    const set = await loadMigrations(dir.path);
    expect(await rollback(db, set, { to: '1' })).toEqual(['00003_notes', '00002_tags']);
    expect(await gooseRows(db)).toEqual([['0', true], ['1', true]]);
    expect((await readLedger(db)).size).toBe(0);
    expect(await rollback(db, set)).toEqual(['00001_items']);
    expect(await gooseRows(db)).toEqual([['0', true]]);
    const { rows } = await db.query(`select tablename from pg_tables where tablename in ('items', 'tags', 'notes')`);
    expect(rows).toEqual([]);
  });

  test('a version goose applied whose file is gone stops a roll back before anything is undone', async () => {
    const { db } = await database();
    await migratedByGoose(db, 3);
    await using dir = await gooseDirectory({ '00001_items.sql': HISTORY['00001_items.sql'], '00002_tags.sql': HISTORY['00002_tags.sql'] });
    const error = await rollback(db, await loadMigrations(dir.path)).catch((e: unknown) => e);
    expect((error as Error).message).toBe(`cannot roll back version 3: it is applied, but no file in ${dir.path} has that version; restore its file (goose needs it too) and run again`);
    expect(await gooseRows(db)).toEqual([['0', true], ['1', true], ['2', true], ['3', true]]);
  });

  test('parallel runs against one empty database apply each version once, in both ledgers', async () => {
    const { fresh } = await database();
    await using dir = await gooseDirectory(HISTORY);
    const set = await loadMigrations(dir.path);
    const runs = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const db = await connect(fresh.connection);
        try {
          return await migrate(db, set, selectMigrations(set, []), OPTIONS);
        } finally {
          await db.close();
        }
      }),
    );
    expect(runs.flatMap((run) => run.applied).sort()).toEqual(['00001_items', '00002_tags', '00003_notes']);
    const db = await connect(fresh.connection);
    cleanups.push(() => db.close());
    expect(await gooseRows(db)).toEqual([['0', true], ['1', true], ['2', true], ['3', true]]);
  });
});

/** The goose CLI, when one is installed: it must read the database as this tool left it, and the other way round. */
const goose = await promisify(execFile)('goose', ['--version']).then(
  () => 'goose',
  () => undefined,
);

describe.skipIf(!goose)('the goose CLI agrees (runs when a goose binary is on the PATH)', () => {
  const run = async (directory: string, url: string, ...command: string[]) => {
    // The embedded server has no TLS; say so, whichever driver this goose was built with.
    const plain = new URL(url);
    plain.searchParams.set('sslmode', 'disable');
    const { stdout, stderr } = await promisify(execFile)(goose!, ['-dir', directory, 'postgres', plain.href, ...command], { env: { ...process.env, NO_COLOR: '1' } });
    return `${stdout}${stderr}`;
  };

  test('goose status sees what this tool applied; goose up applies the rest; this tool then sees everything applied', async () => {
    const { fresh, db } = await database();
    await using partial = await gooseDirectory({ '00001_items.sql': HISTORY['00001_items.sql'], '00002_tags.sql': HISTORY['00002_tags.sql'] });
    await migrateAll(db, partial.path);
    await using dir = await gooseDirectory(HISTORY);
    const status = await run(dir.path, fresh.url, 'status');
    expect(status).toMatch(/\w{3} \w{3} +\d+ [\d:]+ \d{4} -- 00001_items\.sql/);
    expect(status).toMatch(/\w{3} \w{3} +\d+ [\d:]+ \d{4} -- 00002_tags\.sql/);
    expect(status).toMatch(/Pending +-- 00003_notes\.sql/);

    await run(dir.path, fresh.url, 'up');
    expect(await gooseRows(db)).toEqual([['0', true], ['1', true], ['2', true], ['3', true]]);
    const again = await migrateAll(db, dir.path);
    expect(again.applied).toEqual([]);
    expect(await rollback(db, await loadMigrations(dir.path), { to: '1' })).toEqual(['00003_notes', '00002_tags']);
    expect(await run(dir.path, fresh.url, 'version')).toMatch(/version:? 1\b/);
  });
});
