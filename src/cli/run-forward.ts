import { once } from 'node:events';
import type { MigrationConfigInput } from '../config/config-schema.ts';
import { ConfigError } from '../errors/errors.ts';
import { safeUrl } from '../report/redact.ts';
import { beginRun } from '../run/begin-run.ts';
import { closeTarget } from '../run/close-target.ts';
import type { RunOptions } from '../run/run-options.ts';
import { openTarget } from '../target/open-target.ts';
import { connectionUrl } from '../target/target.ts';

/**
 * `e2e-migrations forward`: opens the Kind port-forward, prints where it listens (password
 * masked) and keeps it open until SIGINT/SIGTERM or `signal` aborts, then closes it.
 */
export async function runForward(
  input: MigrationConfigInput & RunOptions,
  io: { stdout: NodeJS.WritableStream },
  signal?: AbortSignal,
): Promise<number> {
  const { config, reporter } = beginRun(input, 'command line');
  if (config.target !== 'kind') {
    throw new ConfigError('forward needs the Kind target: give --namespace and --kubeconfig, --context or --kind-cluster', { key: 'namespace' });
  }
  const target = await openTarget(config, reporter);
  try {
    io.stdout.write(`${safeUrl(connectionUrl(target.connection))}\n`);
    reporter.info(`forwarding ${target.description}; press Ctrl-C to stop`);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    signal?.addEventListener('abort', onSignal, { once: true });
    try {
      await once(stop.signal, 'abort');
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    return 0;
  } finally {
    await closeTarget(target, reporter);
  }
}
