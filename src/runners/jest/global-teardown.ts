import { TeardownError } from '../../errors/errors.ts';
import type { JestGlobalConfig, JestProjectConfig } from './jest-config.ts';
import { jestRuns } from './state.ts';

/**
 * `e2e-migrations/jest/global-teardown`: closes what the global setup opened — for every
 * project of the run, newest first, as Jest calls it once per run like the setup — (drops
 * clones, stops the embedded server or the port-forward) and restores `process.env`. Jest
 * runs it after the tests, also when tests failed; on SIGINT/SIGTERM the same teardown runs
 * from the setup's interrupt handler instead.
 */
export default async function globalTeardown(_globalConfig: JestGlobalConfig, _projectConfig: JestProjectConfig): Promise<void> {
  const runs = jestRuns();
  const all = [...runs.entries()].toReversed();
  runs.clear();
  const failures: { resource: string; error: unknown }[] = [];
  for (const [id, run] of all) {
    try {
      await run.session.close();
    } catch (error) {
      failures.push({ resource: `project ${id}`, error });
    } finally {
      for (const [key, value] of Object.entries(run.previousEnv)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  }
  if (failures.length === 1) throw failures[0]!.error;
  if (failures.length > 1) throw new TeardownError(failures);
}
