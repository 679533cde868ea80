import { ConfigError } from '../../errors/errors.ts';
import type { JestGlobalConfig, JestProjectConfig } from './jest-config.ts';

/** Our global setup, as Jest resolves `e2e-migrations/jest/global-setup` (dist or sources). */
const GLOBAL_SETUP_FILE = /[\\/]runners[\\/]jest[\\/]global-setup\.[cm]?[jt]s$/;

/**
 * The projects of this Jest run whose global setup is ours, as Jest resolved them.
 *
 * Jest runs a global setup module once per run, not once per project: with `projects`, all
 * naming `e2e-migrations/jest/global-setup`, it calls it once, with one project's config.
 * Each project's block must still be applied, so the other projects' configs are read here
 * the way Jest read them (jest-config's `readConfigs`, which gives them the same ids the test
 * environments later see).
 */
export async function jestProjects(globalConfig: JestGlobalConfig, projectConfig: JestProjectConfig): Promise<readonly JestProjectConfig[]> {
  const entries = globalConfig.projects ?? [];
  if (entries.length <= 1) return [projectConfig];
  let configs: readonly JestProjectConfig[];
  try {
    // Present wherever Jest runs: it is how Jest itself reads these configs.
    const { readConfigs } = (await import('jest-config')) as unknown as {
      readConfigs(argv: { $0: string; _: string[] }, projects: readonly unknown[]): Promise<{ configs: JestProjectConfig[] }>;
    };
    ({ configs } = await readConfigs({ $0: 'jest', _: [] }, entries));
  } catch (error) {
    throw new ConfigError(`cannot read the configs of the run's ${entries.length} projects: ${(error as Error).message}`, {}, { cause: error });
  }
  const ours = configs.filter((config) => GLOBAL_SETUP_FILE.test(config.globalSetup ?? ''));
  return ours.length > 0 ? ours : [projectConfig];
}
