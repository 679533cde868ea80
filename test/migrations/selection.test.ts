import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { applyMigrations, availableMigrations, MigrationError } from '../../src/index.ts';
import type { LoadedMigration } from '../../src/migrate/loaded-migration.ts';
import { loadMigrations } from '../../src/migrate/load-migrations.ts';
import { migrate } from '../../src/migrate/migrate.ts';
import { compareNames, orderMigrations } from '../../src/migrate/order-migrations.ts';
import { selectMigrations } from '../../src/migrate/select-migrations.ts';
import { connect } from '../../src/postgres/connect.ts';
import { freshDatabase } from '../support/fresh-database.ts';
import { catalogLines, diffLines, fixtureLines, formatDiff } from './catalog-helpers.ts';

/** The shipped set as the engine loads it: checked and in application order. */
const set = await loadMigrations();
const migrations = set.migrations;
const names = migrations.map((m) => m.name);
const byName = new Map(migrations.map((m) => [m.name, m]));
const fullCatalog = fixtureLines('ds-v1.catalog.txt');
const relationsOf = (lines: readonly string[]) =>
  lines.filter((line) => line.startsWith('relation ')).map((line) => line.split(' ')[1]!).sort();

const NOW = new Date('2025-06-15T12:00:00Z');
const ENGINE_OPTIONS = { now: NOW, partitions: { monthsBack: 1, monthsAhead: 3 } };

/**
 * A migration and what it needs, in application order, as the engine plans it: selecting the
 * tables it creates. Extensions and shared functions create no table, so no selection names
 * them; they depend on nothing (asserted below), so each is its own closure.
 */
function closureOf(migration: LoadedMigration): LoadedMigration[] {
  return migration.tables.length > 0 ? selectMigrations(set, migration.tables) : [migration];
}

/** Migrations of the shipped set, in application order, that any of `names` needs. */
function closureOfAll(dependencies: readonly string[]): LoadedMigration[] {
  const needed = new Set(dependencies.flatMap((name) => closureOf(byName.get(name)!)));
  return migrations.filter((m) => needed.has(m));
}

/**
 * Applies exactly `plan` to a fresh database with the engine (ledger, a transaction per
 * migration, partitions) and returns what it applied and the catalog it left.
 */
async function applyPlan(plan: readonly LoadedMigration[]): Promise<{ applied: readonly string[]; catalog: string[] }> {
  await using database = await freshDatabase('selection');
  const db = await connect(database.connection);
  try {
    const { applied } = await migrate(db, set, plan, ENGINE_OPTIONS);
    return { applied, catalog: await catalogLines(database.url) };
  } finally {
    await db.close();
  }
}

/** A migration in memory, for the ordering rules; it never runs. */
function fake(name: string, dependsOn: readonly string[] = [], tables: readonly string[] = []): LoadedMigration {
  const never = async () => {
    throw new Error(`${name} must not run`);
  };
  return { name, file: `/fake/${name}.ts`, tables, dependsOn, monthlyPartitions: [], checksum: '0'.repeat(64), transactional: true, up: never, down: never };
}

function orderError(migrations: readonly LoadedMigration[]): MigrationError {
  try {
    orderMigrations(migrations);
  } catch (error) {
    expect(error).toBeInstanceOf(MigrationError);
    return error as MigrationError;
  }
  throw new Error('expected orderMigrations to fail, it succeeded');
}

describe('orderMigrations: the rules every loaded set is put in order by', () => {
  test('every dependency comes first; otherwise name order, numbers compared as numbers', () => {
    const ordered = orderMigrations([fake('10_c'), fake('2_b', ['3_a']), fake('3_a')]);
    expect(ordered.map((m) => m.name)).toEqual(['3_a', '2_b', '10_c']);
  });

  test('the order does not depend on the order the files were read in', () => {
    expect(orderMigrations(migrations.toReversed()).map((m) => m.name)).toEqual(names);
  });

  test('a cycle is a MigrationError that prints the cycle', () => {
    const error = orderError([fake('1_a', ['2_b']), fake('2_b', ['3_c']), fake('3_c', ['1_a'])]);
    expect(error.message).toBe('migrations depend on each other in a cycle: 1_a -> 2_b -> 3_c -> 1_a');
    expect(error.details.migration).toBe('1_a');
    expect(orderError([fake('1_a', ['1_a'])]).message).toBe('migrations depend on each other in a cycle: 1_a -> 1_a');
  });

  test('an unknown dependency, a name used twice and a table declared twice are MigrationErrors naming them', () => {
    expect(orderError([fake('1_a', ['9_missing'])]).message).toBe('migration "1_a" depends on "9_missing", which does not exist');
    expect(orderError([fake('1_a'), fake('1_a')]).message).toBe('two migrations are named "1_a" (/fake/1_a.ts and /fake/1_a.ts)');
    expect(orderError([fake('1_a', [], ['t']), fake('2_b', [], ['t'])]).message).toBe('table "t" is declared by both "1_a" and "2_b"');
  });
});

describe('the shipped migrations, as the engine loads them', () => {
  test('there are migrations, named NNNN_name, listed by availableMigrations in the same order', async () => {
    expect(migrations.length).toBeGreaterThan(0);
    for (const name of names) expect(name).toMatch(/^\d{4}_[a-z0-9_]+$/);
    expect((await availableMigrations()).map((m) => m.name)).toEqual(names);
  });

  test('they apply in name order: every dependsOn names a migration that sorts before it', () => {
    expect(names).toEqual(names.toSorted(compareNames));
    const problems = migrations.flatMap(({ name, dependsOn }) =>
      dependsOn.filter((dependency) => compareNames(dependency, name) >= 0).map((dependency) => `${name} depends on ${dependency}, which does not sort before it`),
    );
    expect(problems).toEqual([]);
  });

  test('each relation of the catalog is declared by exactly one migration, and no other is declared', () => {
    const owners = new Map<string, string[]>();
    for (const { name, tables } of migrations) for (const table of tables) owners.set(table, [...(owners.get(table) ?? []), name]);
    const problems = [
      ...relationsOf(fullCatalog)
        .filter((table) => owners.get(table)?.length !== 1)
        .map((table) => `${table} is declared by [${(owners.get(table) ?? []).join(', ')}]`),
      ...[...owners.keys()].filter((table) => !relationsOf(fullCatalog).includes(table)).map((table) => `${table} is not in the catalog`),
    ];
    expect(problems).toEqual([]);
  });

  test('each has up, down and a checksum; only audit_events is partitioned by month, and none needs a maintain step', () => {
    for (const migration of migrations) {
      expect(typeof migration.up, migration.name).toBe('function');
      expect(typeof migration.down, migration.name).toBe('function');
      expect(migration.checksum, migration.name).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(migrations.filter((m) => m.monthlyPartitions.length > 0).map((m) => [m.name, m.monthlyPartitions])).toEqual([['0010_audit_events', ['audit_events']]]);
    expect(migrations.filter((m) => m.maintain).map((m) => m.name)).toEqual([]);
  });

  test('a migration that creates no relation (an extension, a shared function) depends on nothing', () => {
    expect(migrations.filter((m) => m.tables.length === 0 && m.dependsOn.length > 0).map((m) => m.name)).toEqual([]);
  });
});

describe('selecting audit_events', () => {
  test('brings only its own migration: no extension, no shared function, no other table', () => {
    expect(selectMigrations(set, ['audit_events']).map((m) => m.name)).toEqual(['0010_audit_events']);
  });

  test('creates exactly the audit_events lines of the catalog, and its partitions', async () => {
    await using database = await freshDatabase('selection');
    const result = await applyMigrations({ url: database.url, tables: ['audit_events'], logger: false, now: NOW });
    expect(result.applied).toEqual(['0010_audit_events']);

    const auditFunctions = ['set_audit_event_date', 'prevent_audit_event_tampering', 'prevent_legal_hold_removal', 'prevent_legal_hold_deletion', 'prevent_parent_event_deletion'];
    const expected = fullCatalog.filter(
      (line) =>
        line.split(' ')[1] === 'audit_events' ||
        line.startsWith('column audit_events.') ||
        auditFunctions.some((fn) => line.startsWith(`function ${fn}(`)),
    );
    const diff = diffLines(expected, await catalogLines(database.url));
    expect(diff, formatDiff(diff, 'audit_events selection')).toEqual({ missing: [], extra: [] });

    expect(result.partitionsCreated).toHaveLength(5);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from pg_inherits where inhparent = 'audit_events'::regclass`);
      expect(rows[0]!.n).toBe(5);
    } finally {
      await client.end();
    }
  });
});

describe.each(migrations.map((m) => [m.name, m] as const))('selecting %s', (name, migration) => {
  const closure = closureOf(migration);

  test('applies on its own (with its dependencies) and creates only what the closure declares', async () => {
    let applied: readonly string[];
    let catalog: string[];
    if (migration.tables.length > 0) {
      // The way a service asks: by table, through the public API (which also verifies).
      await using database = await freshDatabase('selection');
      applied = (await applyMigrations({ url: database.url, tables: [...migration.tables], logger: false, now: NOW })).applied;
      catalog = await catalogLines(database.url);
    } else {
      ({ applied, catalog } = await applyPlan(closure));
    }
    expect(applied).toEqual(closure.map((m) => m.name));
    expect(relationsOf(catalog)).toEqual(closure.flatMap((m) => m.tables).sort());
    const { extra } = diffLines(fullCatalog, catalog);
    expect(extra, 'lines that are not in ds-v1.catalog.txt').toEqual([]);
  });

  // A dependency another one already implies cannot be proven needed this way; it is declared
  // anyway when the migration uses it directly (a view reading both tables of a foreign key).
  const direct = migration.dependsOn.filter(
    (dependency) => !closureOfAll(migration.dependsOn.filter((d) => d !== dependency)).some((m) => m.name === dependency),
  );
  if (direct.length === 0) return;
  test.each(direct)('needs %s: without it, the engine fails to apply it, naming it and the missing object', async (dependency) => {
    await using database = await freshDatabase('selection');
    const db = await connect(database.connection);
    try {
      await migrate(db, set, closureOfAll(migration.dependsOn.filter((d) => d !== dependency)), ENGINE_OPTIONS);
      const error = await migrate(db, set, [migration], ENGINE_OPTIONS).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      // undefined_table, undefined_function: the failure is the missing dependency, nothing else.
      expect((error as MigrationError).details).toMatchObject({ migration: name, sqlState: expect.stringMatching(/^(42P01|42883)$/) });
    } finally {
      await db.close();
    }
  });
});
