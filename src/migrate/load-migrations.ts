import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Kysely } from 'kysely';
import { ConfigError, MigrationError } from '../errors/errors.ts';
import { GOOSE_FILE_NAME } from './goose/goose-parser.ts';
import type { KyselyMigration, KyselySet, MigrationSet } from './loaded-migration.ts';
import type { MaintainContext } from './migration-module.ts';
import { orderMigrations } from './order-migrations.ts';

/** The migrations this package ships: the DS v1 schema. */
export const SHIPPED_MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

/**
 * Written by the build beside the compiled shipped migrations: what loading them would
 * compute (names, tables, dependencies, checksums), so a run pays for none of it and imports
 * a migration's module only to apply it.
 */
export const MANIFEST_FILE = 'manifest.json';

/** One line of the manifest. */
export interface ManifestEntry {
  readonly name: string;
  /** The module's file name, beside the manifest. */
  readonly file: string;
  readonly tables: readonly string[];
  readonly dependsOn: readonly string[];
  readonly monthlyPartitions: readonly string[];
  readonly checksum: string;
  readonly maintain: boolean;
}

/** Kysely modules; declaration files and tests are not migrations. */
const KYSELY_MIGRATION_FILE = /^(?!.*\.d\.[cm]?ts$)(?!.*\.test\.).*\.(?:[cm]?ts|[cm]?js)$/;

const cache = new Map<string, Promise<MigrationSet>>();

/**
 * Loads a migration directory: Kysely modules (`*.ts`/`*.js` exporting up/down/meta) or a
 * goose SQL directory (`NNN_name.sql`), told apart by what it holds. Results are cached per
 * directory for the life of the process. The shipped set (no directory) is Kysely modules.
 */
export function loadMigrations(): Promise<KyselySet>;
export function loadMigrations(directory: string | undefined): Promise<MigrationSet>;
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
  const shipped = directory === resolve(SHIPPED_MIGRATIONS_DIR);
  // Only the shipped set promises column-level types; other directories are checked for existence.
  const schema = shipped ? (await import('../schema/ds-v1.ts')).dsV1 : undefined;
  if (shipped && entries.includes(MANIFEST_FILE)) {
    const manifest = JSON.parse(await readFile(join(directory, MANIFEST_FILE), 'utf8')) as ManifestEntry[];
    return Object.freeze({ kind: 'kysely', directory, migrations: Object.freeze(manifest.map((entry) => fromManifest(directory, entry))), ...(schema ? { schema } : {}) });
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
    const { loadGooseMigrations } = await import('./goose/goose-source.ts');
    return Object.freeze({ kind: 'goose', directory, migrations: Object.freeze(orderMigrations(await loadGooseMigrations(directory, sqlFiles))) });
  }
  const { loadKyselyMigrations } = await import('./kysely-source.ts');
  const migrations = orderMigrations(await loadKyselyMigrations(directory, dedupeCompiled(moduleFiles)));
  return Object.freeze({ kind: 'kysely', directory, migrations: Object.freeze(migrations), ...(schema ? { schema } : {}) });
}

/** A manifest entry as a migration whose module is imported when it runs. */
function fromManifest(directory: string, entry: ManifestEntry): KyselyMigration {
  const file = join(directory, entry.file);
  let module: Promise<Record<string, (db: Kysely<any>, context?: MaintainContext) => Promise<void>>> | undefined;
  const exported = async (name: string) => (await (module ??= import(pathToFileURL(file).href)))[name]!;
  return Object.freeze({
    name: entry.name,
    file,
    tables: Object.freeze(entry.tables),
    dependsOn: Object.freeze(entry.dependsOn),
    monthlyPartitions: Object.freeze(entry.monthlyPartitions),
    checksum: entry.checksum,
    transactional: true,
    up: async (db: Kysely<any>) => (await exported('up'))(db),
    down: async (db: Kysely<any>) => (await exported('down'))(db),
    ...(entry.maintain ? { maintain: async (db: Kysely<any>, context: MaintainContext) => (await exported('maintain'))(db, context) } : {}),
  });
}

/** What the build writes as the manifest of a loaded set. */
export function manifestOf(set: MigrationSet): ManifestEntry[] {
  return set.migrations.map((m) => ({
    name: m.name,
    file: m.file.slice(m.file.lastIndexOf('/') + 1),
    tables: m.tables,
    dependsOn: m.dependsOn,
    monthlyPartitions: m.monthlyPartitions,
    checksum: m.checksum,
    maintain: m.maintain !== undefined,
  }));
}

/** When a directory has both `x.ts` and its compiled `x.js`, load the JavaScript once. */
function dedupeCompiled(files: readonly string[]): string[] {
  const base = (file: string) => file.replace(/\.[cm]?[jt]s$/, '');
  const js = new Set(files.filter((file) => /\.[cm]?js$/.test(file)).map(base));
  return files.filter((file) => /\.[cm]?js$/.test(file) || !js.has(base(file)));
}
