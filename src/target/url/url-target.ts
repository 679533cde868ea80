import type { UrlConfig } from '../../config/resolve-config.ts';
import type { StartedTarget } from '../target.ts';

/** A Postgres the user already runs (compose file, CI service): nothing to start or stop. */
export function urlTarget(config: UrlConfig): StartedTarget {
  const { connection } = config;
  const close = async (): Promise<void> => undefined;
  return Object.freeze({
    kind: 'url' as const,
    connection,
    description: `${connection.host}:${connection.port}/${connection.database}`,
    close,
    [Symbol.asyncDispose]: close,
  });
}
