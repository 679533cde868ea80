/** Where a Postgres can be reached, as the tests and the migrator see it. */
export interface ConnectionInfo {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export type TargetKind = 'embedded' | 'url' | 'kind';

/**
 * A started target: a Postgres that is reachable now. Closing it releases what starting
 * it opened (the embedded server, the port-forward); `close` is idempotent.
 */
export interface StartedTarget extends AsyncDisposable {
  readonly kind: TargetKind;
  readonly connection: ConnectionInfo;
  /** A human description without secrets, e.g. `kind-e2e/kubernaut-system/postgresql`. */
  readonly description: string;
  close(): Promise<void>;
}

/** Builds a `postgres://` URL with `URL`, so user input is escaped, never joined by hand. */
export function connectionUrl(connection: ConnectionInfo): string {
  const url = new URL('postgres://placeholder');
  url.hostname = connection.host;
  url.port = String(connection.port);
  url.username = connection.user;
  url.password = connection.password;
  url.pathname = `/${encodeURIComponent(connection.database)}`;
  return url.toString();
}

/** Parses a `postgres://` URL into its parts; throws a TypeError on anything else. */
export function parseConnectionUrl(url: string): ConnectionInfo {
  const parsed = new URL(url);
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new TypeError(`expected a postgres:// URL, got ${parsed.protocol}//…`);
  }
  return Object.freeze({
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
    port: parsed.port ? Number(parsed.port) : 5432,
    user: decodeURIComponent(parsed.username) || 'postgres',
    password: decodeURIComponent(parsed.password),
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres',
  });
}

/** Wraps an async close so that it runs once, whoever calls it first. */
export function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}
