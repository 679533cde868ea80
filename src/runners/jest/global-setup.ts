import { ConfigError } from '../../errors/errors.ts';
import { assertNodeVersion } from '../../util/assert-node-version.ts';
import { displayPath } from '../../util/display-path.ts';
import { setupError, startRunnerSession } from '../runner-session.ts';
import { readJestBlock } from './read-jest-block.ts';
import { jestRuns } from './state.ts';

/** Our test environment, as Jest resolves `e2e-migrations/jest/environment` (dist or sources). */
const ENVIRONMENT_FILE = /[\\/]runners[\\/]jest[\\/]environment\.[cm]?[jt]s$/;

/** Only the parts of Jest's configs this module reads (its types live in @jest/types). */
export interface JestGlobalConfig {
  readonly maxWorkers: number;
}
export interface JestProjectConfig {
  readonly id: string;
  readonly rootDir: string;
  readonly testEnvironment?: string;
  readonly testEnvironmentOptions?: Record<string, unknown>;
}

/**
 * `e2e-migrations/jest/global-setup`: reads the project's `migrations` block (from
 * `testEnvironmentOptions.migrations` or `e2e-migrations.config.json` next to the Jest
 * config), brings the target up, applies and verifies the migrations, and puts the
 * connection into `process.env` — DATABASE_URL and E2E_MIGRATIONS_* — before Jest starts
 * its workers, which inherit it. With `isolate: 'file'` it migrates a template, and the test
 * environment `e2e-migrations/jest/environment` (required then) clones it for each test file.
 * `e2e-migrations/jest/global-teardown` closes it all.
 */
export default async function globalSetup(_globalConfig: JestGlobalConfig, projectConfig: JestProjectConfig): Promise<void> {
  assertNodeVersion();
  let block;
  try {
    block = await readJestBlock(projectConfig);
  } catch (error) {
    throw setupError(error, 'jest', 'config', []);
  }
  const source = displayPath(block.configFile);
  if ((block.raw as { isolate?: unknown } | undefined)?.isolate === 'file' && !ENVIRONMENT_FILE.test(projectConfig.testEnvironment ?? '')) {
    // Jest gives a global setup no say over its workers: without our environment every file
    // would share one database while the block says otherwise. Fail before anything starts.
    const message =
      `isolate: 'file' (${source}) needs testEnvironment: 'e2e-migrations/jest/environment' in the Jest config, ` +
      `which gives each test file its own clone; the project uses ${projectConfig.testEnvironment ?? 'the default environment'}`;
    throw setupError(new ConfigError(message, { key: 'testEnvironment', file: source }), 'jest', 'config', []);
  }
  const session = await startRunnerSession({ runner: 'jest', raw: block.raw, source });
  const env: Record<string, string> = { ...session.env };
  const previousEnv = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  jestRuns().set(projectConfig.id, { session, previousEnv });
}
