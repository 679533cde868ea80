import { createHash } from 'node:crypto';
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
} from 'kysely';

/** One statement a Kysely migration sends: its compiled SQL and parameters. */
export interface RecordedStatement {
  readonly sql: string;
  readonly parameters: readonly unknown[];
}

/**
 * What a Kysely `up` (or `down`) sends, without sending it: it runs against a driver that
 * executes nothing and every compiled statement is recorded. `plan --sql` shows exactly this,
 * and the checksum is of exactly this.
 */
export async function recordStatements(step: (db: Kysely<any>) => Promise<void>): Promise<RecordedStatement[]> {
  const statements: RecordedStatement[] = [];
  const recorder = new Kysely<any>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
    log: (event) => {
      statements.push(Object.freeze({ sql: event.query.sql, parameters: event.query.parameters }));
    },
  });
  try {
    await step(recorder);
  } finally {
    await recorder.destroy();
  }
  return statements;
}

/**
 * Checksums what a Kysely `up` *does* rather than the text of its file: every statement it
 * compiles and every parameter (see recordStatements). So reformatting, comments, or shipping
 * the migration compiled to JavaScript change nothing, while any change to the SQL it sends
 * is drift.
 */
export async function checksumOfUp(up: (db: Kysely<any>) => Promise<void>): Promise<string> {
  const hash = createHash('sha256');
  for (const statement of await recordStatements(up)) {
    hash.update(statement.sql);
    hash.update('\0');
    hash.update(JSON.stringify(statement.parameters, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)));
    hash.update('\n');
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
