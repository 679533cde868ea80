import { ConfigError } from '../../errors/errors.ts';
import { parseConnectionString } from '../../postgres/connection-string.ts';
import { keptConnection } from '../../provide/kept-connection.ts';
import type { ProvidedDatabase } from '../../provide/provided.ts';
import { resetTables, type ResetResult } from '../../provide/reset-tables.ts';
import { databaseUrl, providedDatabase } from './database.ts';

export type { ResetResult };

/**
 * Puts this test file's database (the shared one, or its clone with `isolate: 'file'`) back
 * to the state migrating left it in, for the tables of the run's selection: rows written by
 * tests are gone (DELETE triggers such as a legal hold do not stop it), seed rows are back as
 * they were (the six `audit_retention_policies`, even after a test deleted or changed them),
 * sequences continue as after migrating. Tables outside the selection are not touched.
 *
 * One round trip on a connection the worker keeps (opened by the first reset, never keeping
 * the worker alive). Without `isolate: 'file'`, test files running in parallel share the
 * database, and a reset in one empties what the others wrote.
 *
 * @example
 * ```ts
 * import { beforeEach } from 'vitest';
 * import { resetDatabase } from 'e2e-migrations/vitest';
 *
 * beforeEach(() => resetDatabase());
 * ```
 */
export async function resetDatabase(): Promise<ResetResult> {
  let provided: ProvidedDatabase;
  try {
    provided = providedDatabase();
  } catch (error) {
    throw new ConfigError(
      'resetDatabase(): no database was provided to reset: add "e2e-migrations/vitest" to test.globalSetup and a test.migrations block to the Vitest config',
      { key: 'test.globalSetup' },
      { cause: error },
    );
  }
  const url = await databaseUrl();
  return resetTables(await keptConnection(url), provided.tables, parseConnectionString(url));
}
