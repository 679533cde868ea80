import { MigrationError } from '../errors/errors.ts';
import type { LoadedMigration } from './loaded-migration.ts';

/**
 * Puts migrations in application order: every dependency before its dependents, ties
 * broken by name so the order is stable. Fails on a duplicate name, an unknown
 * dependency, a cycle, or a table declared by two migrations — naming them.
 */
export function orderMigrations<M extends LoadedMigration>(migrations: readonly M[]): M[] {
  const byName = new Map<string, M>();
  const tableOwner = new Map<string, string>();
  for (const migration of migrations) {
    if (byName.has(migration.name)) {
      throw new MigrationError(`two migrations are named "${migration.name}" (${byName.get(migration.name)?.file} and ${migration.file})`, {
        migration: migration.name,
        file: migration.file,
      });
    }
    byName.set(migration.name, migration);
    for (const table of migration.tables) {
      const owner = tableOwner.get(table);
      if (owner !== undefined) {
        throw new MigrationError(`table "${table}" is declared by both "${owner}" and "${migration.name}"`, { migration: migration.name });
      }
      tableOwner.set(table, migration.name);
    }
  }
  for (const migration of migrations) {
    for (const dependency of migration.dependsOn) {
      if (!byName.has(dependency)) {
        throw new MigrationError(`migration "${migration.name}" depends on "${dependency}", which does not exist`, {
          migration: migration.name,
          file: migration.file,
        });
      }
    }
  }

  const ordered: M[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (migration: M, path: readonly string[]): void => {
    const seen = state.get(migration.name);
    if (seen === 'done') return;
    if (seen === 'visiting') {
      const cycle = [...path.slice(path.indexOf(migration.name)), migration.name].join(' -> ');
      throw new MigrationError(`migrations depend on each other in a cycle: ${cycle}`, { migration: migration.name });
    }
    state.set(migration.name, 'visiting');
    for (const dependency of [...migration.dependsOn].sort()) visit(byName.get(dependency)!, [...path, migration.name]);
    state.set(migration.name, 'done');
    ordered.push(migration);
  };
  for (const migration of [...migrations].sort((a, b) => compareNames(a.name, b.name))) visit(migration, []);
  return ordered;
}

/** Numeric-aware name order, so `2_x` comes before `10_y` as goose requires. */
export function compareNames(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
