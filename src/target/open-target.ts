import type { MigrationConfig } from '../config/resolve-config.ts';
import { DEFAULTS } from '../config/defaults.ts';
import type { Reporter } from '../report/reporter.ts';
import { startEmbeddedTarget } from './embedded/embedded-target.ts';
import type { StartedTarget } from './target.ts';
import { urlTarget } from './url/url-target.ts';

/** Starts the configured target and returns it reachable; the caller closes it. */
export async function openTarget(config: MigrationConfig, reporter: Reporter): Promise<StartedTarget> {
  if (config.target === 'kind') {
    const { startKindTarget } = await import('./kind/kind-target.ts');
    return startKindTarget(config, reporter);
  }
  return reporter.stage('target', async (progress) => {
    const target =
      config.target === 'url'
        ? urlTarget(config.url!)
        : await (progress.waitingFor('the embedded Postgres 16 to start'),
          startEmbeddedTarget({
            user: config.user ?? DEFAULTS.user,
            password: config.password ?? DEFAULTS.password,
            database: config.database ?? DEFAULTS.database,
          }));
    reporter.addSecret(target.connection.password);
    progress.done(`${config.target}: ${target.description}`);
    return target;
  });
}
