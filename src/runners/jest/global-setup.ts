import { formatConnectionString } from '../../postgres/connection-string.ts';
import { cloneDatabase } from '../../provide/clone.ts';
import { assertNodeVersion } from '../../util/assert-node-version.ts';
import { displayPath } from '../../util/display-path.ts';
import { setupError, startRunnerSession } from '../runner-session.ts';
import { readJestBlock } from './read-jest-block.ts';
import { jestRuns } from './state.ts';

/** Only the parts of Jest's configs this module reads (its types live in @jest/types). */
export interface JestGlobalConfig {
  readonly maxWorkers: number;
}
export interface JestProjectConfig {
  readonly id: string;
  readonly rootDir: string;
  readonly testEnvironmentOptions?: Record<string, unknown>;
}

/** With `isolate: 'file'`, worker N's clone is in E2E_MIGRATIONS_CLONE_URL_<N> (see worker-database.cjs). */
export const CLONE_URL_ENV_PREFIX = 'E2E_MIGRATIONS_CLONE_URL_';

/**
 * `e2e-migrations/jest/global-setup`: reads the project's `migrations` block (from
 * `testEnvironmentOptions.migrations` or `e2e-migrations.config.json` next to the Jest
 * config), brings the target up, applies and verifies the migrations, and puts the
 * connection into `process.env` — DATABASE_URL and E2E_MIGRATIONS_* — before Jest starts
 * its workers, which inherit it. With `isolate: 'file'` it clones one database per worker
 * (Jest's workers are numbered 1…maxWorkers) into E2E_MIGRATIONS_CLONE_URL_<n>; the setup
 * file `worker-database.cjs` points each worker's DATABASE_URL at its own.
 * `e2e-migrations/jest/global-teardown` closes it all.
 */
export default async function globalSetup(globalConfig: JestGlobalConfig, projectConfig: JestProjectConfig): Promise<void> {
  assertNodeVersion();
  let block;
  try {
    block = await readJestBlock(projectConfig);
  } catch (error) {
    throw setupError(error, 'jest', 'config', []);
  }
  const session = await startRunnerSession({ runner: 'jest', raw: block.raw, source: displayPath(block.configFile) });
  const env: Record<string, string> = { ...session.env };
  try {
    if (session.provided.isolate) {
      const { template, clonePrefix } = session.provided.isolate;
      const workers = Math.max(1, Number(globalConfig.maxWorkers) || 1);
      const { connection } = session.session.target;
      await session.session.stage('provide', async (progress) => {
        const clones = await Promise.all(Array.from({ length: workers }, () => cloneDatabase(connection, template, clonePrefix)));
        clones.forEach((clone, index) => (env[`${CLONE_URL_ENV_PREFIX}${index + 1}`] = formatConnectionString(clone)));
        progress.done(`${workers} clone${workers === 1 ? '' : 's'} of ${template}, one per Jest worker`);
      });
    }
  } catch (error) {
    await session.close();
    throw setupError(error, 'jest', 'provide', [session.session.target.connection.password]);
  }
  const previousEnv = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  jestRuns().set(projectConfig.id, { session, previousEnv });
}
