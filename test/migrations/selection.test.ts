import { sql } from 'kysely';
import { describe, expect, test } from 'vitest';
import { applyDirectly, closureOf, kyselyFor, loadMigrations, type LoadedMigration } from '../support/apply-directly.ts';
import { freshDatabase } from '../support/fresh-database.ts';
import { catalogLines, diffLines, fixtureLines, formatDiff } from './catalog-helpers.ts';

const migrations = await loadMigrations();
const names = migrations.map((m) => m.name);
const fullCatalog = fixtureLines('ds-v1.catalog.txt');
const relationsOf = (lines: readonly string[]) =>
  lines.filter((line) => line.startsWith('relation ')).map((line) => line.split(' ')[1]!).sort();

/** Applies exactly these migrations (no dependency resolution) to a fresh database; returns its catalog. */
async function catalogAfter(selection: readonly LoadedMigration[]): Promise<string[]> {
  await using database = await freshDatabase('selection');
  await using db = kyselyFor(database.url);
  await applyDirectly(db, selection, { now: new Date('2025-06-15T12:00:00Z') });
  return await catalogLines(database.url);
}

describe('migration metadata', () => {
  test('there are migrations, named NNNN_name', () => {
    expect(migrations.length).toBeGreaterThan(0);
    for (const name of names) expect(name).toMatch(/^\d{4}_[a-z0-9_]+$/);
  });

  test('every dependsOn names an existing migration that sorts (and so applies) before it', () => {
    const problems = migrations.flatMap(({ name, module }) =>
      module.meta.dependsOn.flatMap((dependency) => {
        if (!names.includes(dependency)) return [`${name} depends on unknown ${dependency}`];
        if (dependency >= name) return [`${name} depends on ${dependency}, which does not sort before it`];
        return [];
      }),
    );
    expect(problems).toEqual([]);
  });

  test('the dependency graph has no cycle', () => {
    const byName = new Map(migrations.map((m) => [m.name, m]));
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (name: string, path: string[]) => {
      if (state.get(name) === 'done') return;
      if (state.get(name) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(name)), name].join(' -> '));
        return;
      }
      state.set(name, 'visiting');
      for (const dependency of byName.get(name)?.module.meta.dependsOn ?? []) visit(dependency, [...path, name]);
      state.set(name, 'done');
    };
    for (const name of names) visit(name, []);
    expect(cycles).toEqual([]);
  });

  test('each relation of the catalog is declared by exactly one migration, and no other is declared', () => {
    const declared = migrations.flatMap(({ name, module }) => module.meta.tables.map((table) => ({ table, name })));
    const owners = new Map<string, string[]>();
    for (const { table, name } of declared) owners.set(table, [...(owners.get(table) ?? []), name]);
    const problems = [
      ...relationsOf(fullCatalog)
        .filter((table) => owners.get(table)?.length !== 1)
        .map((table) => `${table} is declared by [${(owners.get(table) ?? []).join(', ')}]`),
      ...[...owners.keys()].filter((table) => !relationsOf(fullCatalog).includes(table)).map((table) => `${table} is not in the catalog`),
    ];
    expect(problems).toEqual([]);
  });

  test('each migration carries up and down, and only audit_events has maintain', () => {
    for (const { module } of migrations) {
      expect(typeof module.up).toBe('function');
      expect(typeof module.down).toBe('function');
    }
    expect(migrations.filter((m) => m.module.maintain).map((m) => m.name)).toEqual(['0010_audit_events']);
  });
});

describe('selecting audit_events', () => {
  const closure = closureOf(migrations, ['0010_audit_events']);

  test('brings only its own migration: no extension, no shared function, no other table', () => {
    expect(closure.map((m) => m.name)).toEqual(['0010_audit_events']);
  });

  test('creates exactly the audit_events lines of the catalog, and its partitions', async () => {
    await using database = await freshDatabase('selection');
    await using db = kyselyFor(database.url);
    await applyDirectly(db, closure, { now: new Date('2025-06-15T12:00:00Z') });

    const auditFunctions = ['set_audit_event_date', 'prevent_audit_event_tampering', 'prevent_legal_hold_removal', 'prevent_legal_hold_deletion', 'prevent_parent_event_deletion'];
    const expected = fullCatalog.filter(
      (line) =>
        line.split(' ')[1] === 'audit_events' ||
        line.startsWith('column audit_events.') ||
        auditFunctions.some((fn) => line.startsWith(`function ${fn}(`)),
    );
    const diff = diffLines(expected, await catalogLines(database.url));
    expect(diff, formatDiff(diff, 'audit_events selection')).toEqual({ missing: [], extra: [] });

    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_inherits where inhparent = 'audit_events'::regclass`.execute(db);
    expect(rows[0]!.n).toBe(5);
  });
});

describe.each(migrations.map((m) => [m.name, m] as const))('selecting %s', (name, migration) => {
  const closure = closureOf(migrations, [name]);

  test('applies on its own (with its dependencies) and creates only what the closure declares', async () => {
    const catalog = await catalogAfter(closure);
    expect(relationsOf(catalog)).toEqual(closure.flatMap((m) => m.module.meta.tables).sort());
    const { extra } = diffLines(fullCatalog, catalog);
    expect(extra, 'lines that are not in ds-v1.catalog.txt').toEqual([]);
  });

  // A dependency another one already implies cannot be proven needed this way; it is declared
  // anyway when the migration uses it directly (a view reading both tables of a foreign key).
  const direct = migration.module.meta.dependsOn.filter(
    (dependency) => !closureOf(migrations, migration.module.meta.dependsOn.filter((d) => d !== dependency)).some((m) => m.name === dependency),
  );
  if (direct.length === 0) return;
  test.each(direct)('needs %s: without it, up fails', async (dependency) => {
    const others = closureOf(migrations, migration.module.meta.dependsOn.filter((d) => d !== dependency));
    await using database = await freshDatabase('selection');
    await using db = kyselyFor(database.url);
    await applyDirectly(db, others);
    // undefined_table, undefined_function: the failure is the missing dependency, nothing else.
    await expect(db.transaction().execute((trx) => migration.module.up(trx))).rejects.toSatisfy(
      (error: { code?: string }) => error.code === '42P01' || error.code === '42883',
    );
  });
});
