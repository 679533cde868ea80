import { ConfigError } from '../errors/errors.ts';
import type { LoadedMigration, MigrationSet } from './loaded-migration.ts';

/** Every table (and view) a Kysely set declares, sorted; none for a goose set (see below). */
export function availableTables(set: MigrationSet): string[] {
  return set.migrations.flatMap((migration) => migration.tables).sort();
}

/**
 * The migrations that the given tables need, transitively, in application order. No tables
 * means all of them. For a Kysely set an unknown table is a config error listing the valid
 * names, raised here, before any server starts.
 *
 * A goose set is always applied whole, as goose applies it: its history is linear and later
 * files alter (rename, drop, re-partition) what earlier ones created, so a prefix of it is a
 * schema nobody runs. Which relations it leaves is known only from the database once it is
 * applied, so the unknown-table check for a goose set comes after applying
 * (`migrate()`, `tables` option), not here.
 */
export function selectMigrations(set: MigrationSet, tables: readonly string[]): LoadedMigration[] {
  if (tables.length === 0 || set.kind === 'goose') return [...set.migrations];
  const byName = new Map(set.migrations.map((migration) => [migration.name, migration]));
  const owner = new Map(set.migrations.flatMap((migration) => migration.tables.map((table) => [table, migration] as const)));
  const unknown = tables.filter((table) => !owner.has(table));
  if (unknown.length > 0) {
    throw new ConfigError(
      `unknown table${unknown.length === 1 ? '' : 's'} ${unknown.map((t) => `"${t}"`).join(', ')} in "tables"; valid tables are: ${availableTables(set).join(', ')}`,
      { key: 'tables' },
    );
  }
  const needed = new Set<string>();
  const add = (migration: LoadedMigration): void => {
    if (needed.has(migration.name)) return;
    needed.add(migration.name);
    for (const dependency of migration.dependsOn) add(byName.get(dependency)!);
  };
  for (const table of tables) add(owner.get(table)!);
  // set.migrations is already in application order; keep it.
  return set.migrations.filter((migration) => needed.has(migration.name));
}
