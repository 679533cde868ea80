import { VerificationError } from '../errors/errors.ts';
import type { GooseSet } from '../migrate/loaded-migration.ts';
import { relationsLeft } from '../migrate/relations.ts';
import type { Postgres } from '../postgres/connect.ts';

/** What verification of a goose directory checks, and what it could not. */
export interface ExpectedRelations {
  readonly tables: readonly string[];
  /** Said in the progress line when the record is missing and only the declared tables are checked. */
  readonly note?: string;
}

/**
 * The relations a goose directory must have left: those recorded after its newest applied
 * migration (so a later file's DROP, RENAME or DROP … CASCADE counts), plus the tables the
 * block declares. Without a record (the newest migration was applied by goose itself, or by
 * e2e-migrations 0.1.0) only the declared tables are known. Nothing applied is a problem.
 */
export async function expectedGooseRelations(db: Postgres, set: GooseSet, declared: readonly string[]): Promise<ExpectedRelations> {
  const left = await relationsLeft(db, set);
  if (left.after === undefined) {
    throw new VerificationError([`no migration of ${set.directory} is applied (it has ${set.migrations.length} goose file${set.migrations.length === 1 ? '' : 's'}); run apply first`]);
  }
  if (!left.relations) {
    return Object.freeze({
      tables: declared,
      note: `no record of the relations after ${left.after} (applied without e2e-migrations), so only the declared tables were checked`,
    });
  }
  return Object.freeze({ tables: Object.freeze([...new Set([...left.relations, ...declared])]) });
}
