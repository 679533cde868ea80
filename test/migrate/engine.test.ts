import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { ConfigError, MigrationError } from '../../src/errors/errors.ts';
import { connect, type Postgres } from '../../src/postgres/connect.ts';
import { readLedger } from '../../src/migrate/ledger.ts';
import { loadMigrations } from '../../src/migrate/load-migrations.ts';
import { migrate, rollback } from '../../src/migrate/migrate.ts';
import { selectMigrations } from '../../src/migrate/select-migrations.ts';
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts';

const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** What every run passes: a fixed clock, the default window. */
const OPTIONS = { now: new Date('2025-06-15T12:00:00Z'), partitions: { monthsBack: 1, monthsAhead: 3 } };

async function database(): Promise<{ fresh: FreshDatabase; db: Postgres }> {
  const fresh = await freshDatabase('engine');
  const db = await connect(fresh.connection);
  cleanups.push(() => fresh.drop(), () => db.close());
  return { fresh, db };
}

async function tablesIn(db: Postgres): Promise<string[]> {
  const { rows } = await db.query<{ t: string }>(`select tablename as t from pg_tables where schemaname = 'public' order by 1`);
  return rows.map((r) => r.t);
}

describe('migrate', () => {
  test('applies everything once, records name and checksum, and a re-run applies nothing', async () => {
    const { db } = await database();
    const set = await loadMigrations(fixture('kysely-basic'));
    const first = await migrate(db, set, selectMigrations(set, []), OPTIONS);
    expect(first.applied).toEqual(['001_accounts', '002_orders', '003_events']);
    expect(await tablesIn(db)).toEqual(['accounts', 'e2e_migration', 'e2e_migration_checksum', 'e2e_migration_lock', 'events', 'orders']);
    const ledger = await readLedger(db);
    expect([...ledger.keys()]).toEqual(['001_accounts', '002_orders', '003_events']);
    for (const migration of set.migrations) expect(ledger.get(migration.name)?.checksum).toBe(migration.checksum);

    const second = await migrate(db, set, selectMigrations(set, []), OPTIONS);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(['001_accounts', '002_orders', '003_events']);
  });

  test('a selection applies exactly its transitive needs, and later selections compose', async () => {
    const { db } = await database();
    const set = await loadMigrations(fixture('kysely-basic'));
    const gateway = await migrate(db, set, selectMigrations(set, ['events']), OPTIONS);
    expect(gateway.applied).toEqual(['003_events']);
    expect(await tablesIn(db)).not.toContain('accounts');

    // A second service needs `orders`: its dependency `accounts` comes along, and the
    // migration named before the already applied one is still applied.
    const storage = await migrate(db, set, selectMigrations(set, ['orders']), OPTIONS);
    expect(storage.applied).toEqual(['001_accounts', '002_orders']);
    expect(await tablesIn(db)).toEqual(expect.arrayContaining(['accounts', 'orders', 'events']));
  });

  test('an unknown table is a config error that lists the valid names', async () => {
    const set = await loadMigrations(fixture('kysely-basic'));
    const attempt = () => selectMigrations(set, ['events', 'invoices']);
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow('unknown table "invoices" in "tables"; valid tables are: accounts, events, orders');
  });

  test('a migration that fails mid-way leaves nothing of itself and names the migration and the Postgres error', async () => {
    const { db } = await database();
    const set = await loadMigrations(fixture('kysely-failing'));
    const error = await migrate(db, set, selectMigrations(set, []), OPTIONS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    const failure = error as MigrationError;
    expect(failure.message).toContain('could not apply migration "002_broken"');
    expect(failure.message).toContain('relation "no_such_table" does not exist');
    expect(failure.message).toMatch(/SQLSTATE 42P01, position \d+/);
    expect(failure.details).toMatchObject({ migration: '002_broken', sqlState: '42P01' });
    // The earlier migration stays (its own transaction committed); the failed one left nothing.
    expect(await tablesIn(db)).toContain('accounts');
    expect(await tablesIn(db)).not.toContain('half_done');
    expect([...(await readLedger(db)).keys()]).toEqual(['001_accounts']);
  });

  test('an applied migration that was edited stops the run, naming it, before anything is applied', async () => {
    const { db } = await database();
    const dir = await mkdtemp(join(tmpdir(), 'e2e-drift-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await cp(fixture('kysely-basic'), dir, { recursive: true });
    const original = await loadMigrations(dir);
    await migrate(db, original, selectMigrations(original, ['accounts']), OPTIONS);

    const copy = join(dir, 'edited');
    await cp(fixture('kysely-basic'), copy, { recursive: true });
    const file = join(copy, '001_accounts.ts');
    await writeFile(file, (await readFile(file, 'utf8')).replace("'text'", "'varchar(100)'"));
    const edited = await loadMigrations(copy);
    const error = await migrate(db, edited, selectMigrations(edited, []), OPTIONS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/migration "001_accounts" changed after being applied/);
    expect(await tablesIn(db)).not.toContain('orders');
  });

  test('formatting and comments are not drift: the checksum is of the SQL a migration sends', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'e2e-format-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await cp(fixture('kysely-basic'), dir, { recursive: true });
    const file = join(dir, '003_events.ts');
    await writeFile(file, `// a comment that changes nothing\n${(await readFile(file, 'utf8')).replaceAll('  ', '    ')}`);
    const [reformatted, original] = await Promise.all([loadMigrations(dir), loadMigrations(fixture('kysely-basic'))]);
    expect(reformatted.migrations.map((m) => m.checksum)).toEqual(original.migrations.map((m) => m.checksum));
  });

  test('parallel runs against one empty database all succeed and apply each migration exactly once', async () => {
    const { fresh } = await database();
    const set = await loadMigrations(fixture('kysely-basic'));
    const runs = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const db = await connect(fresh.connection);
        try {
          return await migrate(db, set, selectMigrations(set, []), OPTIONS);
        } finally {
          await db.close();
        }
      }),
    );
    const appliedCounts = new Map<string, number>();
    for (const run of runs) for (const name of run.applied) appliedCounts.set(name, (appliedCounts.get(name) ?? 0) + 1);
    expect(Object.fromEntries(appliedCounts)).toEqual({ '001_accounts': 1, '002_orders': 1, '003_events': 1 });
    for (const run of runs) expect([...run.applied, ...run.alreadyApplied].sort()).toEqual(['001_accounts', '002_orders', '003_events']);
  });

  test('rollback runs down in reverse order of application, to a named migration or to nothing', async () => {
    const { db } = await database();
    const set = await loadMigrations(fixture('kysely-basic'));
    await migrate(db, set, selectMigrations(set, ['events']), OPTIONS);
    await migrate(db, set, selectMigrations(set, ['orders']), OPTIONS);
    expect(await rollback(db, set, { to: '001_accounts' })).toEqual(['002_orders']);
    expect(await tablesIn(db)).toEqual(expect.arrayContaining(['accounts', 'events']));
    expect(await tablesIn(db)).not.toContain('orders');
    expect(await rollback(db, set)).toEqual(['001_accounts', '003_events']);
    expect(await tablesIn(db)).toEqual(['e2e_migration', 'e2e_migration_checksum', 'e2e_migration_lock']);
    expect((await readLedger(db)).size).toBe(0);
    await expect(rollback(db, set, { to: '002_orders' })).rejects.toThrow('cannot roll back to "002_orders": it is not applied (applied: none)');
  });
});
