import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MigrationError } from '../../errors/errors.ts';
import { checksumOfStatements } from '../checksum.ts';
import type { GooseMigration } from '../loaded-migration.ts';
import { parseGooseFile } from './goose-parser.ts';

/**
 * Loads a goose SQL directory as goose reads it: a linear history in version order, each
 * file depending on the one before. What relations a file leaves is not guessed from its
 * text: the engine records it from the database when the file is applied (relations.ts).
 */
export async function loadGooseMigrations(directory: string, files: readonly string[]): Promise<GooseMigration[]> {
  const parsed = await Promise.all(
    files.map(async (file) => ({ file, goose: parseGooseFile(file, await readFile(join(directory, file), 'utf8')) })),
  );
  parsed.sort((a, b) => (a.goose.version < b.goose.version ? -1 : a.goose.version > b.goose.version ? 1 : 0));
  const migrations: GooseMigration[] = [];
  let previous: { version: bigint; name: string } | undefined;
  for (const { file, goose } of parsed) {
    const name = file.replace(/\.sql$/, '');
    if (previous && previous.version === goose.version) {
      throw new MigrationError(`goose files ${previous.name}.sql and ${file} share version ${goose.version}`, { file, migration: name });
    }
    migrations.push(
      Object.freeze({
        name,
        file: join(directory, file),
        version: goose.version,
        sql: goose,
        tables: Object.freeze([]),
        dependsOn: Object.freeze(previous ? [previous.name] : []),
        monthlyPartitions: Object.freeze([]),
        checksum: checksumOfStatements(goose.up, goose.transactional),
        transactional: goose.transactional,
      }),
    );
    previous = { version: goose.version, name };
  }
  return migrations;
}
