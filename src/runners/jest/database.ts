import { ConfigError } from '../../errors/errors.ts';
import { parseConnectionString } from '../../postgres/connection-string.ts';
import { closeKeptConnection, keptConnection } from '../../provide/kept-connection.ts';
import { ENV, providedFromEnv, type ProvidedDatabase } from '../../provide/provided.ts';
import { resetTables, type ResetResult } from '../../provide/reset-tables.ts';

/** What `e2e-migrations/jest` gives a test file: its database, read from its `process.env`. */
export interface JestDatabase {
  /** The values the global setup provided, as the environment carries them. */
  providedDatabase(): ProvidedDatabase;
  /** This file's database URL (its clone with `isolate: 'file'`): `DATABASE_URL`. Holds the password: never print it. */
  databaseUrl(): string;
  /**
   * Puts this file's database back to the state migrating left it in, for the selection's
   * tables: rows written by tests gone (DELETE triggers such as a legal hold do not stop it),
   * seed rows back as they were, sequences as after migrating; other tables untouched. One
   * round trip on a connection kept for the file and closed when the file ends.
   */
  resetDatabase(): Promise<ResetResult>;
  /** Closes the kept connection; the environment calls it at the end of the file. */
  close(): Promise<void>;
}

/** Where the environment leaves a test file's helpers, for the CommonJS entry `e2e-migrations/jest`. */
export const JEST_DATABASE_KEY = Symbol.for('e2e-migrations.jest.database');

/**
 * The helpers of one test file, reading `env` — the file's own `process.env`, which the global
 * setup filled and our environment pointed at the file's clone — each time they are called.
 */
export function jestDatabase(env: NodeJS.ProcessEnv): JestDatabase {
  const providedDatabase = (): ProvidedDatabase => {
    const provided = providedFromEnv(env);
    if (!provided) {
      throw new ConfigError(
        `e2e-migrations/jest: no database was provided (${ENV.url} and ${ENV.databaseUrl} are unset): ` +
          "add globalSetup: 'e2e-migrations/jest/global-setup' and globalTeardown: 'e2e-migrations/jest/global-teardown' to the Jest config",
        { key: 'globalSetup' },
      );
    }
    return provided;
  };
  return Object.freeze({
    providedDatabase,
    databaseUrl: () => providedDatabase().url,
    async resetDatabase(): Promise<ResetResult> {
      const { url, tables } = providedDatabase();
      return resetTables(await keptConnection(url), tables, parseConnectionString(url, { key: ENV.url }));
    },
    close: closeKeptConnection,
  });
}
