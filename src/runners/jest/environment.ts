import { TestEnvironment } from 'jest-environment-node';
import { formatConnectionString, parseConnectionString } from '../../postgres/connection-string.ts';
import { ENV } from '../../provide/provided.ts';

/**
 * `e2e-migrations/jest/environment`: Jest's node environment, plus, with `isolate: 'file'`,
 * a database of the test file's own — cloned from the template the global setup migrated —
 * in the file's `DATABASE_URL` (and E2E_MIGRATIONS_URL / _DATABASE). Each test file gets its
 * own copy of `process.env`, so the clone is this file's alone. The global teardown drops
 * every clone of the run.
 *
 * @example
 * ```js
 * // jest.config.mjs
 * export default { testEnvironment: 'e2e-migrations/jest/environment', globalSetup: …, globalTeardown: … };
 * ```
 */
export default class E2eMigrationsEnvironment extends TestEnvironment {
  override async setup(): Promise<void> {
    await super.setup();
    const env = this.global.process.env;
    const url = env[ENV.url] ?? env[ENV.databaseUrl];
    const template = env[ENV.template];
    const prefix = env[ENV.clonePrefix];
    if (!url || !template || !prefix) return; // no isolation asked for: the shared database
    const { cloneDatabase } = await import('../../provide/clone.ts');
    const clone = await cloneDatabase(parseConnectionString(url), template, prefix);
    const cloneUrl = formatConnectionString(clone);
    env[ENV.databaseUrl] = cloneUrl;
    env[ENV.url] = cloneUrl;
    env[ENV.database] = clone.database;
  }
}
