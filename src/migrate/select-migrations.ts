import { ConfigError } from '../errors/errors.ts';
import type { LoadedMigration, MigrationSet } from './loaded-migration.ts';

/** Every table (and view) a migration set can create, sorted. */
export function availableTables(set: MigrationSet): string[] {
  return set.migrations.flatMap((migration) => migration.tables).sort();
}

/**
 * The migrations that the given tables need, transitively, in application order.
 * No tables means all of them. An unknown table is a config error listing the valid names.
 */
export function selectMigrations(set: MigrationSet, tables: readonly string[]): LoadedMigration[] {
  if (tables.length === 0) return [...set.migrations];
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
