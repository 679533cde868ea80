import { readdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, MigrationError } from '../errors/errors.ts';
import { GOOSE_FILE_NAME } from './goose/goose-parser.ts';
import { loadGooseMigrations } from './goose/goose-source.ts';
import { KYSELY_MIGRATION_FILE, loadKyselyMigrations } from './kysely-source.ts';
import type { MigrationSet } from './loaded-migration.ts';
import { orderMigrations } from './order-migrations.ts';

/** The migrations this package ships: the DS v1 schema. */
export const SHIPPED_MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

const cache = new Map<string, Promise<MigrationSet>>();

/**
 * Loads a migration directory: Kysely modules (`*.ts`/`*.js` exporting up/down/meta) or a
 * goose SQL directory (`NNN_name.sql`), told apart by what it holds. Results are cached per
 * directory for the life of the process.
 */
export function loadMigrations(directory: string = SHIPPED_MIGRATIONS_DIR): Promise<MigrationSet> {
  const key = resolve(directory);
  let loading = cache.get(key);
  if (!loading) {
    loading = load(key);
    cache.set(key, loading);
    loading.catch(() => cache.delete(key));
  }
  return loading;
}

async function load(directory: string): Promise<MigrationSet> {
  let entries: string[];
  try {
    if (!(await stat(directory)).isDirectory()) throw new Error('not a directory');
    entries = (await readdir(directory)).sort();
  } catch (error) {
    throw new ConfigError(`migrations directory ${directory} cannot be read: ${(error as Error).message}`, { key: 'migrations' }, { cause: error });
  }
  const sqlFiles = entries.filter((file) => file.endsWith('.sql'));
  const moduleFiles = entries.filter((file) => KYSELY_MIGRATION_FILE.test(file));
  if (sqlFiles.length > 0 && moduleFiles.length > 0) {
    throw new ConfigError(`migrations directory ${directory} mixes SQL files and JS/TS modules; use one kind per directory`, { key: 'migrations' });
  }
  if (sqlFiles.length === 0 && moduleFiles.length === 0) {
    throw new ConfigError(`migrations directory ${directory} holds no migrations (*.sql goose files or *.ts/*.js Kysely modules)`, { key: 'migrations' });
  }
  if (sqlFiles.length > 0) {
    const stray = sqlFiles.find((file) => !GOOSE_FILE_NAME.test(file));
    if (stray) throw new MigrationError(`goose file ${stray}: name must look like NNN_description.sql`, { file: stray });
    return Object.freeze({ kind: 'goose', directory, migrations: Object.freeze(orderMigrations(await loadGooseMigrations(directory, sqlFiles))) });
  }
  const migrations = orderMigrations(await loadKyselyMigrations(directory, dedupeCompiled(moduleFiles)));
  // Only the shipped set promises column-level types; other directories are checked for existence.
  const schema = directory === resolve(SHIPPED_MIGRATIONS_DIR) ? (await import('../schema/ds-v1.ts')).dsV1 : undefined;
  return Object.freeze({ kind: 'kysely', directory, migrations: Object.freeze(migrations), ...(schema ? { schema } : {}) });
}

/** When a directory has both `x.ts` and its compiled `x.js`, load the JavaScript once. */
function dedupeCompiled(files: readonly string[]): string[] {
  const base = (file: string) => file.replace(/\.[cm]?[jt]s$/, '');
  const js = new Set(files.filter((file) => /\.[cm]?js$/.test(file)).map(base));
  return files.filter((file) => /\.[cm]?js$/.test(file) || !js.has(base(file)));
}
