import { jestRuns } from './state.ts';
import type { JestGlobalConfig, JestProjectConfig } from './global-setup.ts';

/**
 * `e2e-migrations/jest/global-teardown`: closes what the global setup of the same project
 * opened (drops clones, stops the embedded server or the port-forward) and restores
 * `process.env`. Jest runs it after the tests, also when tests failed; on SIGINT/SIGTERM the
 * same teardown runs from the setup's interrupt handler instead.
 */
export default async function globalTeardown(_globalConfig: JestGlobalConfig, projectConfig: JestProjectConfig): Promise<void> {
  const runs = jestRuns();
  const run = runs.get(projectConfig.id);
  if (!run) return; // setup failed (and cleaned up after itself) or is not ours
  runs.delete(projectConfig.id);
  try {
    await run.session.close();
  } finally {
    for (const [key, value] of Object.entries(run.previousEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}
