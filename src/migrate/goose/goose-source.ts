import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { MigrationError } from '../../errors/errors.ts';
import { checksumOfStatements } from '../checksum.ts';
import { createdRelations, parseGooseFile, type GooseFile } from './goose-parser.ts';
import type { LoadedMigration } from '../loaded-migration.ts';

/**
 * Loads a goose SQL directory as migrations for the same ledger. Goose migrations are
 * linear, so each depends on the one before it; the tables a file creates are read from
 * its `CREATE TABLE`/`CREATE VIEW` statements so a table selection still works.
 */
export async function loadGooseMigrations(directory: string, files: readonly string[]): Promise<LoadedMigration[]> {
  const parsed = await Promise.all(
    files.map(async (file) => ({ file, goose: parseGooseFile(file, await readFile(join(directory, file), 'utf8')) })),
  );
  parsed.sort((a, b) => (a.goose.version < b.goose.version ? -1 : a.goose.version > b.goose.version ? 1 : 0));
  const migrations: LoadedMigration[] = [];
  let previous: { version: bigint; name: string } | undefined;
  for (const { file, goose } of parsed) {
    const name = file.replace(/\.sql$/, '');
    if (previous && previous.version === goose.version) {
      throw new MigrationError(`goose files ${previous.name}.sql and ${file} share version ${goose.version}`, { file, migration: name });
    }
    const tablesSoFar = new Set(migrations.flatMap((migration) => migration.tables));
    migrations.push(
      Object.freeze({
        name,
        file: join(directory, file),
        tables: Object.freeze(createdRelations(goose.up).filter((table) => !tablesSoFar.has(table))),
        dependsOn: Object.freeze(previous ? [previous.name] : []),
        monthlyPartitions: Object.freeze([]),
        checksum: checksumOfStatements(goose.up, goose.transactional),
        transactional: goose.transactional,
        up: (db: Kysely<any>) => runStatements(db, goose, goose.up, goose.upLines),
        down: (db: Kysely<any>) => runStatements(db, goose, goose.down, goose.downLines),
      }),
    );
    previous = { version: goose.version, name };
  }
  return migrations;
}

async function runStatements(db: Kysely<any>, goose: GooseFile, statements: readonly string[], lines: readonly number[]): Promise<void> {
  // Runs inside Kysely's Migrator, so Kysely is loaded by then; importing it here keeps a
  // goose directory with nothing to apply from loading it.
  const { sql } = await import('kysely');
  for (const [index, statement] of statements.entries()) {
    try {
      // The statement is the migration's own SQL text, run as written: that is what a
      // goose file is. Nothing from user input is spliced into it.
      await sql.raw(statement).execute(db);
    } catch (error) {
      Object.assign(error as object, { statementIndex: index + 1, statementCount: statements.length, statementLine: lines[index], goose: goose.version });
      throw error;
    }
  }
}
