import { ConfigError } from '../errors/errors.ts';
import { connect } from '../postgres/connect.ts';
import { parseConnectionString, type ConnectionInfo } from '../postgres/connection-string.ts';
import { keptConnection } from '../provide/kept-connection.ts';
import { ENV, providedFromEnv } from '../provide/provided.ts';
import { resetTables, type ResetResult } from '../provide/reset-tables.ts';

export interface ResetOptions {
  /**
   * The tables to reset. @default the provided selection (`E2E_MIGRATIONS_TABLES`) when no
   * target is given; otherwise every table the database's snapshot holds (what e2e-migrations
   * migrated there).
   */
  readonly tables?: readonly string[];
}

/**
 * Puts the tables back to the state migrating left them in: rows written since are gone
 * (DELETE triggers such as a legal hold do not stop it), seed rows (the six
 * `audit_retention_policies`) are back as they were, sequences continue as after migrating.
 * Tables outside the selection are not touched. Needs the snapshot that `prepareDatabase()`,
 * `applyMigrations()` and the runners' global setups take right after migrating.
 *
 * `target` is a `postgres://` URL or a `ConnectionInfo`, connected to for the reset and
 * closed again (some 40 ms of the time on a local server: SCRAM's key derivation). Without one,
 * the database a runner's setup provided (`E2E_MIGRATIONS_URL` / `DATABASE_URL`), on the
 * connection the process keeps for resets, as the runners' own `resetDatabase()` do: the first
 * call connects, later ones take a few milliseconds, and it never keeps the process alive.
 *
 * @example
 * ```ts
 * await using db = await prepareDatabase({ url, tables: ['audit_events'] });
 * // … the code under test writes …
 * await resetDatabase(db.connection);
 * ```
 */
export async function resetDatabase(target?: string | ConnectionInfo, options: ResetOptions = {}): Promise<ResetResult> {
  if (target === undefined) {
    const provided = providedFromEnv();
    if (!provided) {
      throw new ConfigError(
        `resetDatabase(): no database given and none provided (${ENV.url} and ${ENV.databaseUrl} are unset): ` +
          'pass its URL or connection, or call it in tests run with the e2e-migrations global setup of Vitest or Jest',
        { key: ENV.url },
      );
    }
    // A test's database: the connection its worker keeps, as the runners' resetDatabase() does.
    return resetTables(await keptConnection(provided.url), options.tables ?? provided.tables, parseConnectionString(provided.url, { key: ENV.url }));
  }
  const connection = typeof target === 'string' ? parseConnectionString(target, { key: 'target' }) : target;
  const pg = await connect(connection, 'e2e-migrations reset');
  try {
    return await resetTables(pg, options.tables ?? null, connection);
  } finally {
    await pg.close();
  }
}
