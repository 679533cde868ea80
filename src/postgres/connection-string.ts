import type { ClientConfig } from 'pg';
import { parse, toClientConfig } from 'pg-connection-string';
import { ConfigError } from '../errors/errors.ts';

/**
 * Where a Postgres can be reached and how to talk to it. `user`, `password` and `database`
 * may be `''`, which means "not given" — pg and libpq then fall back to `PGUSER`,
 * `PGPASSWORD`, `PGDATABASE` or their defaults, and {@link mergeCredentials} fills them in.
 *
 * @example
 * const info = parseConnectionString('postgres://app:s3cret@db:5432/app?sslmode=require');
 * info.params; // { sslmode: 'require' }
 */
export interface ConnectionInfo {
  /** A host name, an IP address (IPv6 without brackets: `::1`) or a Unix socket directory. */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /**
   * Every other connection parameter, verbatim: `sslmode`, `options`, `application_name`,
   * `connect_timeout`, … Never `host`, `port`, `user`, `password` or `dbname`: those are
   * the fields above.
   */
  readonly params: Readonly<Record<string, string>>;
}

/** What {@link connectionInfo} needs; `params` defaults to none. */
export interface ConnectionParts extends Omit<ConnectionInfo, 'params'> {
  readonly params?: Readonly<Record<string, string>> | undefined;
}

export interface ParseConnectionStringOptions {
  /** The configuration key the URL came from, named in errors. @default 'url' */
  readonly key?: string;
}

export type CredentialKey = 'user' | 'password' | 'database';

/** Credentials given apart from the URL (flags, environment, config keys); `''` counts as not given. */
export type Credentials = { readonly [K in CredentialKey]?: string | undefined };

/** How to name each side of a conflict to the user. */
export interface CredentialSources {
  /** Where the URL came from. @default '"url"' */
  readonly url?: string;
  /** Where each separate value came from, e.g. `--password` or `E2E_MIGRATIONS_PASSWORD`. @default '"user"', '"password"', '"database"' */
  readonly user?: string;
  readonly password?: string;
  readonly database?: string;
}

/** pg's and libpq's default port. */
export const DEFAULT_PORT = 5432;
/** pg's default host when a URL has none (libpq would use its Unix socket instead). */
export const DEFAULT_HOST = 'localhost';

/**
 * Parameters that are fields of {@link ConnectionInfo}, not `params`. A query value wins over
 * the URL's authority and path, as libpq reads it (pg agrees except for `dbname`, which it
 * ignores — we follow libpq, the reference for what a Postgres URL means).
 */
const FIELD_PARAMS: ReadonlySet<string> = new Set(['host', 'port', 'user', 'password', 'dbname']);

/**
 * Characters left as they are in the database (URL path). pg-connection-string decodes the path
 * with `decodeURI`, which does not decode `%2F %3B %3A %40 %26 %3D %2B %24 %2C`; written
 * literally they mean the same to pg, libpq and WHATWG `URL`. (`?` and `#` cannot be literal:
 * see {@link formatConnectionString}.)
 */
const PATH_LITERALS = /%(2F|3B|3A|40|26|3D|2B|24|2C)/g;

/** Builds a frozen {@link ConnectionInfo}, checking what a URL could not express. */
export function connectionInfo(parts: ConnectionParts): ConnectionInfo {
  if (!Number.isInteger(parts.port) || parts.port < 1 || parts.port > 65535) {
    throw new ConfigError(`port ${parts.port} is not a TCP port (1-65535)`, { key: 'port' });
  }
  // "[::1]" as a host is the URL spelling of "::1".
  const host = parts.host.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new ConfigError('the host is empty', { key: 'host' });
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(parts.params ?? {})) {
    if (FIELD_PARAMS.has(name)) {
      throw new ConfigError(`"${name}" cannot be a connection parameter: it is the ${name === 'dbname' ? 'database' : name} field`, { key: `params.${name}` });
    }
    params[name] = String(value);
  }
  return Object.freeze({
    host,
    port: parts.port,
    user: parts.user,
    password: parts.password,
    database: parts.database,
    params: Object.freeze(params),
  });
}

/**
 * Reads a `postgres://` or `postgresql://` URL the way pg reads it (pg-connection-string),
 * keeping every query parameter in `params`. Absent user, password or database are `''`;
 * an absent host is `localhost`, an absent port 5432.
 *
 * Throws a {@link ConfigError} naming `options.key` when the URL cannot be read; the message
 * never contains the URL, so never its password.
 *
 * @example
 * parseConnectionString('postgresql://app:p%40ss@[::1]:5433/app?application_name=e2e');
 * // { host: '::1', port: 5433, user: 'app', password: 'p@ss', database: 'app', params: { application_name: 'e2e' } }
 */
export function parseConnectionString(url: string, options: ParseConnectionStringOptions = {}): ConnectionInfo {
  const key = options.key ?? 'url';
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    // pg would read anything (a bare word becomes a database on host "base"): insist on a URL.
    const scheme = /^([a-z][a-z0-9+.-]{0,19}):/i.exec(url)?.[1];
    const got = scheme ? `a ${scheme}: URL` : 'no URL';
    throw new ConfigError(`"${key}" must be a postgres:// or postgresql:// URL, got ${got}`, { key });
  }
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(url);
  } catch (error) {
    throw unreadable(key, error);
  }
  const rawPort = str(parsed.port) || String(DEFAULT_PORT);
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port < 1 || port > 65535) {
    // Echo only digits: a value typed in the wrong place may be a password.
    const shown = /^\d{1,10}$/.test(rawPort) ? ` ${rawPort}` : ' that is not a number';
    throw new ConfigError(`"${key}" has a port${shown}; expected a TCP port (1-65535)`, { key });
  }
  const query = queryParams(url);
  const params: Record<string, string> = {};
  for (const [name, value] of query) if (!FIELD_PARAMS.has(name)) params[name] = value;
  return connectionInfo({
    host: str(parsed.host) || DEFAULT_HOST,
    port,
    user: str(parsed.user),
    password: str(parsed.password),
    database: query.get('dbname') ?? databaseOf(url, str(parsed.database)),
    params,
  });
}

/**
 * Writes a URL that pg (pg-connection-string) and libpq (psql) both read back to `info`:
 * user, password and database percent-encoded (any characters), an IPv6 host in brackets,
 * a Unix socket directory encoded as the host, `params` as the query string (`%20` for
 * spaces, never `+`, which libpq would keep).
 *
 * One exception: a database name containing `?` or `#` must be written `%3F`/`%23`, which
 * libpq decodes but pg 8 does not (it reads the path with `decodeURI`), so pg asks for a
 * database literally named `a%3Fb`. {@link pgClientConfig} is exact in every case; so is this
 * URL for any database name without `?` or `#` (and without `.`/`..` path segments, which
 * URL parsing removes).
 *
 * @example
 * formatConnectionString(connectionInfo({ host: '::1', port: 5432, user: 'app', password: 'a@b:c/d', database: 'app', params: { sslmode: 'disable' } }));
 * // 'postgres://app:a%40b%3Ac%2Fd@[::1]:5432/app?sslmode=disable'
 */
export function formatConnectionString(info: ConnectionInfo): string {
  const userinfo = info.user || info.password ? `${encodeURIComponent(info.user)}${info.password ? `:${encodeURIComponent(info.password)}` : ''}@` : '';
  // A socket directory ("/var/run/postgresql") contains ':' only after its leading '/'.
  const host = info.host.includes(':') && !info.host.startsWith('/') ? `[${info.host}]` : encodeURIComponent(info.host);
  const database = encodeURIComponent(info.database).replace(PATH_LITERALS, (escape) => decodeURIComponent(escape));
  const query = Object.entries(info.params)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&');
  return `postgres://${userinfo}${host}:${info.port}/${database}${query ? `?${query}` : ''}`;
}

/**
 * What to pass to `new pg.Client(…)` or `new pg.Pool(…)`: exactly what pg makes of
 * `formatConnectionString(info)` (so `sslmode`, `ssl`, `sslrootcert`, `options`,
 * `application_name`, … act as they would in the URL), with the five fields set from `info`
 * directly so that no database name is lost to pg's path decoding. `connect_timeout`
 * (seconds), which pg's JavaScript client ignores, becomes `connectionTimeoutMillis`.
 *
 * pg 8 reads `sslmode` like this (not like libpq): `disable` — no TLS; `prefer`, `require`,
 * `verify-ca`, `verify-full` and `allow` — TLS required and the certificate and host name
 * verified (pg prints a one-time warning for `prefer`/`require`/`verify-ca`); `no-verify` — TLS
 * required, certificate not verified. With `uselibpqcompat=true`: `require` without
 * `sslrootcert` does not verify, `verify-ca` needs `sslrootcert` and skips the host name, and
 * `prefer` still requires TLS. No sslmode: `PGSSLMODE` decides, else no TLS. pg never falls
 * back to plaintext.
 *
 * Returns a new, unfrozen object: pg may write to its `ssl` part.
 *
 * @example
 * const client = new pg.Client({ fallback_application_name: 'e2e-migrations', ...pgClientConfig(info) });
 */
export function pgClientConfig(info: ConnectionInfo): ClientConfig {
  let fromUrl: ClientConfig;
  try {
    fromUrl = toClientConfig(parse(formatConnectionString(info)));
  } catch (error) {
    throw unreadable('url', error);
  }
  const config: ClientConfig = {
    ...fromUrl,
    host: info.host,
    port: info.port,
    user: info.user,
    password: info.password,
    database: info.database,
  };
  const timeout = info.params.connect_timeout;
  // libpq: seconds; zero or negative means wait forever, which is pg's default (0) as well.
  if (timeout !== undefined && /^\s*\d+\s*$/.test(timeout) && Number(timeout) > 0) {
    config.connectionTimeoutMillis = Number(timeout) * 1000;
  }
  return config;
}

/**
 * Completes the credentials of a parsed URL with values given elsewhere: a value fills in what
 * the URL lacks, and repeating the URL's value is fine, but a different value is a
 * {@link ConfigError} (exit code 2) naming both places — never printing a password.
 *
 * @example
 * mergeCredentials(parseConnectionString(url), { password: env.E2E_MIGRATIONS_PASSWORD }, { password: 'E2E_MIGRATIONS_PASSWORD' });
 * // throws 'E2E_MIGRATIONS_PASSWORD contradicts the password in "url"' when both differ
 */
export function mergeCredentials(info: ConnectionInfo, given: Credentials, sources: CredentialSources = {}): ConnectionInfo {
  const merged = { user: info.user, password: info.password, database: info.database };
  for (const key of ['user', 'password', 'database'] as const) {
    const value = given[key];
    if (value === undefined || value === '' || value === info[key]) continue;
    if (info[key] === '') {
      merged[key] = value;
      continue;
    }
    const label = sources[key] ?? `"${key}"`;
    const where = sources.url ?? '"url"';
    const message =
      key === 'password'
        ? `${label} contradicts the password in ${where}; give the password in one place only`
        : `${label} "${value}" contradicts the ${key} "${info[key]}" in ${where}; give the ${key} in one place only`;
    throw new ConfigError(message, { key });
  }
  return connectionInfo({ ...info, ...merged });
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/**
 * Query parameters as pg reads them (WHATWG `URLSearchParams`, the last of a repeated name
 * wins), taken from the text so that the values pg-connection-string rewrites (`ssl=1`
 * becomes `true`, file paths become file contents) stay verbatim.
 */
function queryParams(url: string): Map<string, string> {
  const beforeFragment = url.split('#', 1)[0] ?? '';
  const start = beforeFragment.indexOf('?');
  return new Map(start < 0 ? [] : new URLSearchParams(beforeFragment.slice(start + 1)));
}

/**
 * pg-connection-string decodes the path with `decodeURI`, so `%2F`, `%3F`, `%23`, `%40` … stay
 * encoded in its database name; libpq decodes every escape. Read such a path again, fully
 * decoded — a URL whose path `URL` cannot read again keeps pg's reading.
 */
function databaseOf(url: string, fromPg: string): string {
  if (!fromPg.includes('%') || !URL.canParse(url)) return fromPg;
  return safeDecode(new URL(url).pathname.slice(1), fromPg);
}

function safeDecode(text: string, fallback: string): string {
  try {
    return decodeURIComponent(text);
  } catch (error) {
    // Escapes that are not UTF-8 (`%C3` alone): keep pg's reading rather than fail on it.
    if (error instanceof URIError) return fallback;
    throw error;
  }
}

function unreadable(key: string, error: unknown): ConfigError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
    // pg-connection-string reads sslrootcert, sslcert and sslkey while parsing.
    const file = (error as NodeJS.ErrnoException).path;
    return new ConfigError(`"${key}" names a TLS file that cannot be read: ${file} (${code})`, { key, ...(file ? { file } : {}) }, { cause: error });
  }
  if (error instanceof Error && error.constructor === Error) {
    // pg-connection-string's own refusals (sslmode=verify-ca without sslrootcert under
    // uselibpqcompat) explain themselves and never quote the URL.
    return new ConfigError(`"${key}" cannot be used: ${error.message}`, { key }, { cause: error });
  }
  // The usual culprit is a password pasted into the URL as it is.
  const hint = 'check the port, and percent-encode reserved characters in the user and password (@ as %40, : as %3A, / as %2F, ? as %3F, # as %23, % as %25)';
  return new ConfigError(`"${key}" is not a valid postgres:// URL: ${hint}`, { key }, { cause: error });
}
