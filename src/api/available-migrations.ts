import { loadMigrations } from '../migrate/load-migrations.ts';

export interface AvailableMigration {
  readonly name: string;
  readonly tables: readonly string[];
  readonly dependsOn: readonly string[];
}

/**
 * The migrations of a directory (default: the shipped DS schema) in application order,
 * with the tables each creates and what each depends on. Go: `AvailableMigrations`.
 */
export async function availableMigrations(directory?: string): Promise<readonly AvailableMigration[]> {
  const set = await loadMigrations(directory);
  return Object.freeze(set.migrations.map(({ name, tables, dependsOn }) => Object.freeze({ name, tables, dependsOn })));
}
