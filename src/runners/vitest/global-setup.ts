import { availableParallelism } from 'node:os';
import type { TestProject } from 'vitest/node';
import { assertNodeVersion } from '../../util/assert-node-version.ts';
import './types.ts';

/*
 * `e2e-migrations/vitest`: the module for `test.globalSetup`, and the helpers for configs
 * and tests. Importing it is cheap (configs and test workers do); the migration engine is
 * loaded by `setup` only, in Vitest's main process.
 */
import { isolateSetupFile, workerPreloadUrl } from './config.ts';
import { ENV } from '../../provide/provided.ts';

export { e2eMigrations, globalSetupFile, isolateSetupFile, type E2eMigrationsTestConfig } from './config.ts';
export { databaseUrl, providedDatabase, testDatabase, type TestDatabaseOptions } from './database.ts';
export { resetDatabase, type ResetResult } from './reset-database.ts';
export type { MigrationConfigInput, ProvidedDatabase } from './types.ts';
export type { Database } from '../../schema/ds-v1.ts';

/**
 * Vitest global setup: reads `test.migrations` of the project's config, brings the target
 * up, applies and verifies the migrations, then provides `e2eMigrations` to tests and sets
 * DATABASE_URL / E2E_MIGRATIONS_* in the workers' environment (the project's `env`, which
 * Vitest passes to every worker it starts after this). Returns the teardown, which Vitest
 * runs once after the run, passed or failed; on SIGINT/SIGTERM, when Vitest would exit
 * without it, it runs anyway. In watch mode the target stays up between runs, and each
 * rerun is preceded by a quick re-verification.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  assertNodeVersion();
  const [{ startRunnerSession }, { displayPath }, { failSetup }] = await Promise.all([import('../runner-session.ts'), import('../../util/display-path.ts'), import('./fail-setup.ts')]);
  const configFile = displayPath(project.vite.config.configFile ?? project.config.root);
  const session = await startRunnerSession({
    runner: 'vitest',
    raw: (project.config as { migrations?: unknown }).migrations,
    source: project.name ? `${configFile} (project "${project.name}")` : configFile,
    // Vitest runs each project's global setup in this process, one after the other.
    shareServer: project.vitest.projects.filter((other) => (other.config as { migrations?: unknown }).migrations !== undefined).length > 1,
    // As many clones ready as files start at once, and one more: a file that starts as the
    // previous one ends takes that one instead of waiting for the previous clone's reset.
    leaseSizing: () => testFileCount(project).then((files) => ({ ahead: Math.min(files, workerCount(project) + 1), total: files })),
  }).catch((error: unknown) => failSetup(project, error));
  project.provide('e2eMigrations', session.provided);
  project.config.env = { ...project.config.env, ...session.env };
  if (session.provided.isolate) isolateFiles(project);
  if (project.config.watch) project.onTestsRerun(() => session.recheck());
  return () => session.close();
}

/**
 * Makes sure each test file of an isolating project leases its clone, however the block was
 * written (workers read the project's config after global setup, as they do for `env`):
 *
 *  - a worker process per file (the `forks` pools with `isolate` on, Vitest's default): the
 *    process leases as it starts (worker-preload.ts by `--import`), and holds the clone until
 *    it exits. DATABASE_URL and the like are then set by the process, not by the project's
 *    `env`, which Vitest sets again before each file;
 *  - otherwise (`threads`, `isolate: false`): the per-file setup file leases and gives back.
 */
function isolateFiles(project: TestProject): void {
  const { config } = project;
  const processPerFile = (config.pool === 'forks' || config.pool === 'vmForks') && config.isolate !== false;
  if (!processPerFile) {
    if (!config.setupFiles.includes(isolateSetupFile)) config.setupFiles.push(isolateSetupFile);
    return;
  }
  config.setupFiles = config.setupFiles.filter((file) => file !== isolateSetupFile);
  if (!config.execArgv.includes(workerPreloadUrl)) config.execArgv.push('--import', workerPreloadUrl);
  const { [ENV.databaseUrl]: url, [ENV.url]: _url, [ENV.database]: _database, ...env } = config.env;
  config.env = { ...env, [ENV.leaseUrl]: url! };
}

/** How many test files Vitest runs at once (`maxWorkers`, resolved from the CPUs when not set). */
function workerCount(project: TestProject): number {
  const max = (project.vitest.config as { maxWorkers?: unknown }).maxWorkers;
  return typeof max === 'number' && max > 0 ? max : Math.max(1, availableParallelism() - 1);
}

/**
 * How many test files this project will run: no more clones are prepared than that. Counted
 * while the first copy is made, not before setup returns. The file filters of the command line
 * are Vitest's internal `filenamePattern`; without them the count is of all the project's
 * files, which at worst prepares a clone or two more than needed.
 */
async function testFileCount(project: TestProject): Promise<number> {
  const filters = (project.vitest as { filenamePattern?: unknown }).filenamePattern;
  const { testFiles } = await project.globTestFiles(Array.isArray(filters) && filters.length ? (filters as string[]) : undefined);
  return testFiles.length;
}
