import type { Kysely } from 'kysely';
import type { SchemaSpec } from '../schema/define-schema.ts';
import type { MaintainContext } from './migration-module.ts';

/** One migration as the engine sees it, whatever source it came from. */
export interface LoadedMigration {
  /** Ledger name: the file's base name without extension. */
  readonly name: string;
  /** The file it came from, for error messages. */
  readonly file: string;
  readonly tables: readonly string[];
  readonly dependsOn: readonly string[];
  /** Tables of this migration partitioned by month, whose window the engine keeps rolling. */
  readonly monthlyPartitions: readonly string[];
  /** sha256 of what `up` does (see checksum.ts). */
  readonly checksum: string;
  /** False for goose `NO TRANSACTION` files: they run outside a transaction. */
  readonly transactional: boolean;
  up(db: Kysely<any>): Promise<void>;
  down(db: Kysely<any>): Promise<void>;
  maintain?(db: Kysely<any>, context: MaintainContext): Promise<void>;
}

/** A directory of migrations, loaded and checked. */
export interface MigrationSet {
  readonly kind: 'kysely' | 'goose';
  readonly directory: string;
  /** In application order (dependencies first, then by name). */
  readonly migrations: readonly LoadedMigration[];
  /** The column-level schema the set promises, when it has one (the shipped set does). */
  readonly schema?: SchemaSpec;
}
