import { ConfigError } from '../../errors/errors.ts';
import { once, parseConnectionUrl, type StartedTarget } from '../target.ts';

/** A Postgres the user already runs (compose file, CI service): nothing to start or stop. */
export function urlTarget(url: string): StartedTarget {
  let connection;
  try {
    connection = parseConnectionUrl(url);
  } catch (error) {
    throw new ConfigError(`"url" is not a postgres:// URL: ${(error as Error).message}`, { key: 'url' }, { cause: error });
  }
  const close = once(async () => {});
  return Object.freeze({
    kind: 'url' as const,
    connection,
    description: `${connection.host}:${connection.port}/${connection.database}`,
    close,
    [Symbol.asyncDispose]: close,
  });
}
