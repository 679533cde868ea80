import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { MigrationModule, PartitionWindow } from '../../src/migrate/migration-module.ts';

/*
 * A stand-in for the migration engine, just enough to test the migration files: it imports
 * `migrations/*.ts` in name order and runs each `up` in its own transaction, then its
 * `maintain`. No ledger, no checksums, no locking; the real engine replaces it.
 */

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

export interface LoadedMigration {
  /** File base name without `.ts`, e.g. `0010_audit_events`. */
  readonly name: string;
  readonly module: MigrationModule;
}

const MIGRATION_FILE = /^\d{4}_[a-z0-9_]+\.ts$/;

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<LoadedMigration[]> {
  const files = (await readdir(dir)).filter((file) => MIGRATION_FILE.test(file)).sort();
  const loaded: LoadedMigration[] = [];
  for (const file of files) {
    const module = (await import(pathToFileURL(join(dir, file)).href)) as MigrationModule;
    loaded.push({ name: basename(file, '.ts'), module });
  }
  return loaded;
}

/** The migrations named plus everything they depend on, transitively, in name order. */
export function closureOf(all: readonly LoadedMigration[], names: readonly string[]): LoadedMigration[] {
  const byName = new Map(all.map((m) => [m.name, m]));
  const wanted = new Set<string>();
  const visit = (name: string) => {
    if (wanted.has(name)) return;
    const migration = byName.get(name);
    if (!migration) throw new Error(`unknown migration ${name}`);
    wanted.add(name);
    for (const dependency of migration.module.meta.dependsOn) visit(dependency);
  };
  for (const name of names) visit(name);
  return all.filter((m) => wanted.has(m.name));
}

/** The migration that declares `table` in its meta.tables. */
export function migrationOf(all: readonly LoadedMigration[], table: string): LoadedMigration {
  const found = all.find((m) => m.module.meta.tables.includes(table));
  if (!found) throw new Error(`no migration declares ${table}`);
  return found;
}

export interface ApplyOptions {
  /** @default new Date() */
  readonly now?: Date;
  /** @default 1 month back, 3 ahead */
  readonly partitions?: PartitionWindow;
}

export async function applyDirectly(
  db: Kysely<any>,
  migrations: readonly LoadedMigration[],
  options: ApplyOptions = {},
): Promise<void> {
  const context = { now: options.now ?? new Date(), partitions: options.partitions ?? { monthsBack: 1, monthsAhead: 3 } };
  for (const { name, module } of migrations) {
    try {
      await db.transaction().execute((trx) => module.up(trx));
      if (module.maintain) await module.maintain(db, context);
    } catch (error) {
      throw new Error(`migration ${name} failed: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** Runs every `down` in reverse order, each in its own transaction. */
export async function revertDirectly(db: Kysely<any>, migrations: readonly LoadedMigration[]): Promise<void> {
  for (const { name, module } of migrations.toReversed()) {
    try {
      await db.transaction().execute((trx) => module.down(trx));
    } catch (error) {
      throw new Error(`down of ${name} failed: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** A Kysely on a database URL; dispose it (`await using`) to close the pool. */
export function kyselyFor<DB = any>(url: string, poolSize = 4): Kysely<DB> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // pool.end() resolves before its sockets are closed, so dropping the database right after
  // (WITH FORCE) can still reach a closing idle client as "terminating connection due to
  // administrator command" (57P01), which the pool re-emits: expected, not a failure.
  pool.on('error', (error: Error & { code?: string }) => {
    if (error.code !== '57P01') throw error;
  });
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}
