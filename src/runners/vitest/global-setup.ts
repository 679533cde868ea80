import type { TestProject } from 'vitest/node';
import { assertNodeVersion } from '../../util/assert-node-version.ts';
import './types.ts';

/*
 * `e2e-migrations/vitest`: the module for `test.globalSetup`, and the helpers for configs
 * and tests. Importing it is cheap (configs and test workers do); the migration engine is
 * loaded by `setup` only, in Vitest's main process.
 */
import { isolateSetupFile } from './config.ts';

export { e2eMigrations, globalSetupFile, isolateSetupFile, type E2eMigrationsTestConfig } from './config.ts';
export { databaseUrl, providedDatabase, testDatabase, type TestDatabaseOptions } from './database.ts';
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
  const [{ startRunnerSession }, { displayPath }] = await Promise.all([import('../runner-session.ts'), import('../../util/display-path.ts')]);
  const configFile = displayPath(project.vite.config.configFile ?? project.config.root);
  const session = await startRunnerSession({
    runner: 'vitest',
    raw: (project.config as { migrations?: unknown }).migrations,
    source: project.name ? `${configFile} (project "${project.name}")` : configFile,
  });
  project.provide('e2eMigrations', session.provided);
  project.config.env = { ...project.config.env, ...session.env };
  // Isolation must not depend on how the block was written: the one-call form lists the
  // per-file setup, a block written by hand does not, so add it here (workers read the
  // project's config after global setup, as they do for `env`).
  if (session.provided.isolate && !project.config.setupFiles.includes(isolateSetupFile)) project.config.setupFiles.push(isolateSetupFile);
  if (project.config.watch) project.onTestsRerun(() => session.recheck());
  return () => session.close();
}
