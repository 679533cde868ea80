import { ConfigError } from '../../errors/errors.ts';
import { ENV } from '../../provide/provided.ts';
import { assertNodeVersion } from '../../util/assert-node-version.ts';
import { displayPath } from '../../util/display-path.ts';
import { setupError, startRunnerSession, type RunnerSession } from '../runner-session.ts';
import type { JestGlobalConfig, JestProjectConfig } from './jest-config.ts';
import { jestProjects } from './jest-projects.ts';
import { readJestBlock, type JestBlock } from './read-jest-block.ts';
import { jestRuns } from './state.ts';

export type { JestGlobalConfig, JestProjectConfig } from './jest-config.ts';

/** Our test environment, as Jest resolves `e2e-migrations/jest/environment` (dist or sources). */
const ENVIRONMENT_FILE = /[\\/]runners[\\/]jest[\\/]environment\.[cm]?[jt]s$/;

/**
 * `e2e-migrations/jest/global-setup`: reads each project's `migrations` block (from
 * `testEnvironmentOptions.migrations` or `e2e-migrations.config.json` next to the Jest
 * config), brings the target up, applies and verifies the migrations, and puts the
 * connection into `process.env` — DATABASE_URL and E2E_MIGRATIONS_* — before Jest starts
 * its workers, which inherit it. With `isolate: 'file'` it migrates a template, and the test
 * environment `e2e-migrations/jest/environment` (required then) clones it for each test file.
 *
 * With `projects`, Jest calls a global setup once for the whole run: this sets up every
 * project that names it, on one embedded server (each project in a database of its own), and
 * the test environment (required then) gives each test file its project's values.
 * `e2e-migrations/jest/global-teardown` closes it all.
 */
export default async function globalSetup(globalConfig: JestGlobalConfig, projectConfig: JestProjectConfig): Promise<void> {
  assertNodeVersion();
  let planned: { project: JestProjectConfig; block: JestBlock }[];
  try {
    const projects = await jestProjects(globalConfig, projectConfig);
    planned = await Promise.all(projects.map(async (project) => ({ project, block: await readJestBlock(project) })));
    for (const { project, block } of planned) checkEnvironment(project, block, planned.length);
  } catch (error) {
    throw setupError(error, 'jest', 'config', []);
  }
  const several = planned.length > 1;
  // One clone ready per worker: as many files start at once; later files take them back reset.
  const leaseSizing = () => ({ ahead: globalConfig.maxWorkers });
  const started: { project: JestProjectConfig; session: RunnerSession }[] = [];
  try {
    for (const { project, block } of planned) {
      const source = displayPath(block.configFile) + (several ? ` (project "${projectName(project)}")` : '');
      started.push({ project, session: await startRunnerSession({ runner: 'jest', raw: block.raw, source, shareServer: several, leaseSizing }) });
    }
  } catch (error) {
    // One project failed: what the others opened closes now, as the run will not reach teardown.
    for (const { session } of started.toReversed()) await session.close().catch(() => undefined);
    throw error;
  }
  // The first project's values for code that reads process.env directly; with several, each
  // test file's environment takes its own project's from the map.
  const env: Record<string, string> = { ...started[0]!.session.env };
  if (several) env[ENV.projects] = JSON.stringify(Object.fromEntries(started.map(({ project, session }) => [project.id, session.env])));
  const previousEnv = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  started.forEach(({ project, session }, index) => jestRuns().set(project.id, { session, previousEnv: index === 0 ? previousEnv : {} }));
}

/**
 * Jest gives a global setup no say over its workers: without our environment every file
 * would share one database (isolate: 'file'), or see another project's (several projects).
 * Fail before anything starts, naming what is missing.
 */
function checkEnvironment(project: JestProjectConfig, block: JestBlock, projects: number): void {
  if (ENVIRONMENT_FILE.test(project.testEnvironment ?? '')) return;
  const source = displayPath(block.configFile);
  const isolate = (block.raw as { isolate?: unknown } | undefined)?.isolate === 'file';
  if (!isolate && projects === 1) return;
  const why = isolate
    ? `isolate: 'file' (${source}) needs testEnvironment: 'e2e-migrations/jest/environment' in the Jest config, which gives each test file its own clone`
    : `the run's ${projects} projects each have a database of their own, so project "${projectName(project)}" needs testEnvironment: 'e2e-migrations/jest/environment', which gives each test file its project's database`;
  throw new ConfigError(`${why}; the project uses ${project.testEnvironment ? displayPath(project.testEnvironment) : 'the default environment'}`, { key: 'testEnvironment', file: source });
}

function projectName(project: JestProjectConfig): string {
  const name = typeof project.displayName === 'string' ? project.displayName : project.displayName?.name;
  return name ?? displayPath(project.rootDir);
}
