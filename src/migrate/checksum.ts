import { createHash } from 'node:crypto';
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
} from 'kysely';

/**
 * Checksums what a Kysely `up` *does* rather than the text of its file: `up` runs against
 * a driver that executes nothing, and every compiled statement and parameter is hashed.
 * So reformatting, comments, or shipping the migration compiled to JavaScript change
 * nothing, while any change to the SQL it sends is drift.
 */
export async function checksumOfUp(up: (db: Kysely<any>) => Promise<void>): Promise<string> {
  const hash = createHash('sha256');
  const recorder = new Kysely<any>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
    log: (event) => {
      hash.update(event.query.sql);
      hash.update('\0');
      hash.update(JSON.stringify(event.query.parameters, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)));
      hash.update('\n');
    },
  });
  try {
    await up(recorder);
  } finally {
    await recorder.destroy();
  }
  return hash.digest('hex');
}

/** Checksums SQL statements (goose files): each statement as written, in order. */
export function checksumOfStatements(statements: readonly string[], transactional: boolean): string {
  const hash = createHash('sha256');
  hash.update(transactional ? 'tx\n' : 'no-tx\n');
  for (const statement of statements) hash.update(`${statement.trim()}\0`);
  return hash.digest('hex');
}
