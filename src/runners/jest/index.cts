import type { ProvidedDatabase } from '../../provide/provided.ts';
import type { ResetResult } from '../../provide/reset-tables.ts';
import type { JestDatabase } from './database.ts';

/*
 * `e2e-migrations/jest`: what a Jest test file imports. CommonJS, because Jest runs test files
 * in its own module system, which can require CommonJS but not ES modules (only with
 * --experimental-vm-modules). So the helpers themselves, ES modules like the rest of the
 * package, are set on the test file's global by our test environment, which Jest loads as a
 * native module; this file only hands them over. The key is Symbol.for, the same in every
 * realm; database.ts's JEST_DATABASE_KEY is the same key (a test holds them equal).
 *
 * The TypeScript form (`export declare` + `exports.x =`) is what a CommonJS file can say under
 * verbatimModuleSyntax and erasableSyntaxOnly, which forbid `import =` and `export =`.
 */

export type { ProvidedDatabase, ResetResult };

/**
 * Puts this test file's database back to the state migrating left it in, for the tables of the
 * run's selection: rows written by tests are gone (DELETE triggers such as a legal hold do not
 * stop it), seed rows are back as they were (the six `audit_retention_policies`), sequences
 * continue as after migrating; tables outside the selection are not touched. Needs
 * `testEnvironment: 'e2e-migrations/jest/environment'`.
 *
 * @example
 * ```js
 * const { resetDatabase } = require('e2e-migrations/jest');
 * beforeEach(() => resetDatabase());
 * ```
 */
export declare function resetDatabase(): Promise<ResetResult>;
/** This file's database URL (`DATABASE_URL`; its own clone with `isolate: 'file'`). Holds the password: never print it. */
export declare function databaseUrl(): string;
/** The values the global setup provided (url, host, port, database, user, tables, isolate). */
export declare function providedDatabase(): ProvidedDatabase;

const KEY = Symbol.for('e2e-migrations.jest.database');

function helpers(): JestDatabase {
  const installed = (globalThis as { [KEY]?: JestDatabase })[KEY];
  if (installed) return installed;
  // Not an E2eMigrationsError instance (that class lives in the ES modules this file cannot
  // load), but shaped like the ConfigError it stands for.
  const message =
    "e2e-migrations/jest: the test environment is missing: add testEnvironment: 'e2e-migrations/jest/environment' to the Jest config " +
    "(with globalSetup: 'e2e-migrations/jest/global-setup' and globalTeardown: 'e2e-migrations/jest/global-teardown')";
  throw Object.assign(new Error(message), { name: 'ConfigError', exitCode: 2, details: Object.freeze({ key: 'testEnvironment' }) });
}

exports.resetDatabase = (): Promise<ResetResult> => helpers().resetDatabase();
exports.databaseUrl = (): string => helpers().databaseUrl();
exports.providedDatabase = (): ProvidedDatabase => helpers().providedDatabase();
