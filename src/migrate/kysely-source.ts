import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Kysely } from 'kysely';
import { MigrationError } from '../errors/errors.ts';
import { checksumOfUp } from './checksum.ts';
import type { KyselyMigration } from './loaded-migration.ts';
import type { MaintainContext } from './migration-module.ts';

/** Imports each Kysely migration file and checks its exports, naming the file and export. */
export async function loadKyselyMigrations(directory: string, files: readonly string[]): Promise<KyselyMigration[]> {
  return Promise.all(files.map((file) => loadOne(join(directory, file))));
}

async function loadOne(file: string): Promise<KyselyMigration> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new MigrationError(`could not load migration file ${file}: ${(error as Error).message}`, { file }, { cause: error });
  }
  const name = basename(file).replace(/\.[cm]?[jt]s$/, '');
  const fail = (what: string): never => {
    throw new MigrationError(`migration file ${file}: ${what}`, { migration: name, file });
  };
  const { up, down, maintain, meta } = module;
  if (typeof up !== 'function') fail('export "up" must be a function (db) => Promise<void>');
  if (typeof down !== 'function') fail('export "down" must be a function (db) => Promise<void>');
  if (maintain !== undefined && typeof maintain !== 'function') fail('export "maintain" must be a function when present');
  if (typeof meta !== 'object' || meta === null) fail('export "meta" must be an object { tables: string[], dependsOn: string[] }');
  const { tables, dependsOn, monthlyPartitions = [] } = meta as { tables?: unknown; dependsOn?: unknown; monthlyPartitions?: unknown };
  if (!isStringArray(tables)) fail('export "meta.tables" must be an array of table names');
  if (!isStringArray(dependsOn)) fail('export "meta.dependsOn" must be an array of migration names');
  if (!isStringArray(monthlyPartitions)) fail('export "meta.monthlyPartitions" must be an array of table names when present');
  const notOwn = (monthlyPartitions as string[]).filter((table) => !(tables as string[]).includes(table));
  if (notOwn.length > 0) fail(`"meta.monthlyPartitions" names ${notOwn.map((t) => `"${t}"`).join(', ')}, which "meta.tables" does not`);

  const upFn = up as (db: Kysely<any>) => Promise<void>;
  let checksum: string;
  try {
    checksum = await checksumOfUp(upFn);
  } catch (error) {
    throw new MigrationError(`migration ${name}: could not compute its checksum: ${(error as Error).message}`, { migration: name, file }, { cause: error });
  }
  return Object.freeze({
    name,
    file,
    tables: Object.freeze([...(tables as string[])]),
    dependsOn: Object.freeze([...(dependsOn as string[])]),
    monthlyPartitions: Object.freeze([...(monthlyPartitions as string[])]),
    checksum,
    transactional: true,
    up: upFn,
    down: down as (db: Kysely<any>) => Promise<void>,
    ...(maintain ? { maintain: maintain as (db: Kysely<any>, context: MaintainContext) => Promise<void> } : {}),
  });
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string' && item.length > 0);
}
