import { once } from 'node:events';
import type { MigrationConfigInput } from '../config/config-schema.ts';
import { formatConnectionString } from '../postgres/connection-string.ts';
import { safeUrl } from '../report/redact.ts';
import { startSession, type RunOptions } from '../session/start-session.ts';

/**
 * `e2e-migrations forward`: opens the Kind port-forward, prints where it listens (password
 * masked) and keeps it open until SIGINT/SIGTERM or `signal` aborts, then closes it. With
 * `--transport auto` or `nodeport` it prints the NodePort address instead, if one answers.
 */
export async function runForward(
  input: MigrationConfigInput & RunOptions,
  options: {
    /** The CLI's one output (main.ts): the result as the --json document, or the text. */
    readonly print: (result: object, human: string) => void;
    readonly signal?: AbortSignal;
  },
): Promise<number> {
  const { signal } = options;
  // A port-forward is what this command is for, unless --transport says otherwise.
  await using session = await startSession({ transport: 'port-forward', ...input }, {
    source: 'command line',
    targets: { allowed: ['kind'], why: 'forward needs the Kind target: give --namespace and --kubeconfig, --context or --kind-cluster' },
  });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  // Listening before the URL is printed: whoever reads it may answer with Ctrl-C at once.
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  signal?.addEventListener('abort', onSignal, { once: true });
  try {
    const url = safeUrl(formatConnectionString(session.target.connection));
    const { host, port, database, user } = session.target.connection;
    options.print({ url, host, port, database, user }, `${url}\n`);
    session.reporter.info(`forwarding ${session.target.description}; press Ctrl-C to stop`);
    if (!stop.signal.aborted) await once(stop.signal, 'abort');
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}
