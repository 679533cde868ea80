import { TestEnvironment } from 'jest-environment-node';
import type { Lease } from '../../provide/lease-database.ts';
import { ENV, pointEnvAt, urlWithDatabase } from '../../provide/provided.ts';
import { JEST_DATABASE_KEY, jestDatabase, type JestDatabase } from './database.ts';

/**
 * `e2e-migrations/jest/environment`: Jest's node environment, plus, with `isolate: 'file'`,
 * a database of the test file's own — cloned from the template the global setup migrated —
 * in the file's `DATABASE_URL` (and E2E_MIGRATIONS_URL / _DATABASE), leased from the run for
 * the file and given back when it ends (the run resets it for the next file). Each test file
 * gets its own copy of `process.env`, so the clone is this file's alone. The global teardown
 * drops every clone of the run.
 *
 * @example
 * ```js
 * // jest.config.mjs
 * export default { testEnvironment: 'e2e-migrations/jest/environment', globalSetup: …, globalTeardown: … };
 * ```
 */
export default class E2eMigrationsEnvironment extends TestEnvironment {
  readonly #projectId: string;
  readonly #testPath: string;
  #lease: Lease | undefined;

  constructor(config: ConstructorParameters<typeof TestEnvironment>[0], context: ConstructorParameters<typeof TestEnvironment>[1]) {
    super(config, context);
    this.#projectId = config.projectConfig.id;
    this.#testPath = context.testPath;
  }

  override async setup(): Promise<void> {
    await super.setup();
    const env = this.global.process.env;
    // What `e2e-migrations/jest` hands the file (resetDatabase, …): see index.cts for why through the global.
    (this.global as unknown as { [JEST_DATABASE_KEY]?: JestDatabase })[JEST_DATABASE_KEY] = jestDatabase(env);
    useProjectValues(env, this.#projectId);
    const url = env[ENV.url] ?? env[ENV.databaseUrl];
    const address = env[ENV.leases];
    if (!url || !env[ENV.template] || !address) return; // no isolation asked for: the shared database
    // A clone of the template, leased from the run for this file (database-leases.ts).
    const { leaseDatabase } = await import('../../provide/lease-database.ts');
    this.#lease = await leaseDatabase(address, this.#testPath);
    const cloneUrl = urlWithDatabase(url, this.#lease.database);
    pointEnvAt(env, cloneUrl, this.#lease.database);
  }

  override async teardown(): Promise<void> {
    try {
      await (this.global as unknown as { [JEST_DATABASE_KEY]?: JestDatabase })[JEST_DATABASE_KEY]?.close(); // the file's kept reset connection
      await this.#lease?.release(); // the run resets the clone for the next file
    } finally {
      await super.teardown();
    }
  }
}

/**
 * With several projects the global setup leaves every project's variables in one map: this
 * test file takes its own project's (and none of another project's isolation values).
 */
function useProjectValues(env: NodeJS.ProcessEnv, projectId: string): void {
  const map = env[ENV.projects];
  if (!map) return;
  const own = (JSON.parse(map) as Record<string, Record<string, string>>)[projectId];
  if (!own) return; // a project without a block of ours
  for (const name of Object.values(ENV)) if (name !== ENV.projects) delete env[name];
  Object.assign(env, own);
}
