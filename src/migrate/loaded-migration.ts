import type { Kysely } from 'kysely';
import type { SchemaSpec } from '../schema/define-schema.ts';
import type { GooseFile } from './goose/goose-parser.ts';
import type { MaintainContext } from './migration-module.ts';

/** What every migration carries, whatever source it came from. */
interface MigrationCommon {
  /** The file's base name without extension: what messages, `list` and `status` show. */
  readonly name: string;
  /** The file it came from, for error messages. */
  readonly file: string;
  /** Relations it creates, as its source declares them (Kysely `meta.tables`; none for goose). */
  readonly tables: readonly string[];
  readonly dependsOn: readonly string[];
  /** Tables of this migration partitioned by month, whose window the engine keeps rolling. */
  readonly monthlyPartitions: readonly string[];
  /** sha256 of what `up` does (see checksum.ts). */
  readonly checksum: string;
  /** False for goose `NO TRANSACTION` files: they run outside a transaction. */
  readonly transactional: boolean;
}

/** A Kysely module: `up`/`down` (and `maintain`) run through Kysely; its name is its identity. */
export interface KyselyMigration extends MigrationCommon {
  readonly version?: undefined;
  up(db: Kysely<any>): Promise<void>;
  down(db: Kysely<any>): Promise<void>;
  maintain?(db: Kysely<any>, context: MaintainContext): Promise<void>;
}

/**
 * A goose SQL file. Its identity is its version, as in goose: renaming the file changes
 * nothing about whether it is applied. Its statements run as written, on plain SQL.
 */
export interface GooseMigration extends MigrationCommon {
  readonly version: bigint;
  readonly sql: GooseFile;
  readonly maintain?: undefined;
}

/** One migration as the engine sees it. */
export type LoadedMigration = KyselyMigration | GooseMigration;

interface SetCommon {
  readonly directory: string;
  /** The column-level schema the set promises, when it has one (the shipped set does). */
  readonly schema?: SchemaSpec;
}

/** A directory of Kysely modules, in application order (dependencies first, then by name). */
export interface KyselySet extends SetCommon {
  readonly kind: 'kysely';
  readonly migrations: readonly KyselyMigration[];
}

/** A goose directory, in version order: a linear history, each file after the one before. */
export interface GooseSet extends SetCommon {
  readonly kind: 'goose';
  readonly migrations: readonly GooseMigration[];
}

/** A directory of migrations, loaded and checked. */
export type MigrationSet = KyselySet | GooseSet;

/** True for a goose file. */
export function isGoose(migration: LoadedMigration): migration is GooseMigration {
  return migration.version !== undefined;
}
