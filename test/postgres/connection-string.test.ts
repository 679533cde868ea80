import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect, promisify } from 'node:util';
import pg from 'pg';
import { parse } from 'pg-connection-string';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { ConfigError } from '../../src/errors/errors.ts';
import {
  connectionInfo,
  formatConnectionString,
  mergeCredentials,
  parseConnectionString,
  pgClientConfig,
  type ConnectionInfo,
} from '../../src/postgres/connection-string.ts';

const run = promisify(execFile);

/** Every character a URL could trip on: reserved, percent signs (valid and not), quotes, spaces, unicode. */
const NASTY = `p%40ss%zz%:w/rd?#@[]{}<>|\\^~\`'" +&=;$,!*()\t ü 🐘 end%`;

const PARAMS = Object.freeze({
  sslmode: 'disable',
  options: '-c statement_timeout=4321 -c search_path=e2e_schema',
  application_name: 'e2e &=+?#%41 /:@ x',
  connect_timeout: '7',
  target_session_attrs: 'any',
  client_encoding: 'UTF8',
});

function info(overrides: Partial<ConnectionInfo> = {}): ConnectionInfo {
  return connectionInfo({ host: 'db.example', port: 5433, user: 'app', password: 'pw', database: 'app', params: {}, ...overrides });
}

describe('formatConnectionString and parseConnectionString', () => {
  test('round-trip every parameter verbatim, and pg reads the same values', () => {
    const original = info({ params: { ...PARAMS, 'odd key ü': 'v & = + # ? %20 %' } });
    const url = formatConnectionString(original);
    expect(url).not.toContain('+'); // libpq would keep a '+' where URLSearchParams reads a space
    expect(parseConnectionString(url)).toEqual(original);
    const pgView = parse(url);
    for (const [name, value] of Object.entries(original.params)) expect(pgView[name], name).toBe(value);
  });

  test('user, password and database with any characters survive, for us and for pg', () => {
    const original = info({ user: `u${NASTY}`, password: NASTY, database: `d/;:@&=+$, %ü'"x` });
    const url = formatConnectionString(original);
    expect(parseConnectionString(url)).toEqual(original);
    expect(parse(url)).toMatchObject({ user: original.user, password: NASTY, database: original.database, host: 'db.example', port: '5433' });
  });

  test('a database named with ? or # round-trips for us (pg-connection-string alone leaves %3F/%23 encoded)', () => {
    const original = info({ database: 'a?b#c%2Fd' });
    expect(parseConnectionString(formatConnectionString(original))).toEqual(original);
    expect(pgClientConfig(original).database).toBe('a?b#c%2Fd');
  });

  test('an IPv6 host is written in brackets and read back without them', () => {
    for (const host of ['::1', '2001:db8::8a2e:370:7334', '[::1]']) {
      const original = info({ host });
      const url = formatConnectionString(original);
      expect(url).toBe(`postgres://app:pw@[${host.replace(/^\[|\]$/g, '')}]:5433/app`);
      expect(parseConnectionString(url).host).toBe(host.replace(/^\[|\]$/g, ''));
      expect(parse(url).host).toBe(host.replace(/^\[|\]$/g, ''));
    }
  });

  test('a Unix socket directory is the host, for us and for pg', () => {
    const original = info({ host: '/var/run/postgresql' });
    const url = formatConnectionString(original);
    expect(parseConnectionString(url)).toEqual(original);
    expect(parse(url).host).toBe('/var/run/postgresql');
  });

  test('reads what a URL leaves out as absent: no user, password or database; localhost; 5432', () => {
    expect(parseConnectionString('postgresql://db')).toEqual(info({ host: 'db', port: 5432, user: '', password: '', database: '' }));
    expect(parseConnectionString('postgres:///app').host).toBe('localhost');
    expect(parseConnectionString('postgres://u@db').password).toBe('');
  });

  test('query host, port, user, password and dbname win over the authority and path, as in libpq', () => {
    const parsed = parseConnectionString('postgres://a:b@h:1/x?host=%2Ftmp&port=6543&user=u&password=p%26q&dbname=y&sslmode=disable');
    expect(parsed).toEqual(info({ host: '/tmp', port: 6543, user: 'u', password: 'p&q', database: 'y', params: { sslmode: 'disable' } }));
  });

  test('keeps values pg-connection-string rewrites (ssl=1, file paths) verbatim', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'conn-string-'));
    try {
      const ca = join(dir, 'ca.pem');
      await writeFile(ca, 'not really a certificate');
      const parsed = parseConnectionString(`postgres://h/db?ssl=1&sslrootcert=${encodeURIComponent(ca)}`);
      expect(parsed.params).toEqual({ ssl: '1', sslrootcert: ca });
      expect(parseConnectionString(formatConnectionString(parsed))).toEqual(parsed);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a parsed or built value is frozen, params too', () => {
    const parsed = parseConnectionString('postgres://u:p@h/db?sslmode=disable');
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(Object.isFrozen(parsed.params)).toBe(true);
  });

  test('connectionInfo refuses what the URL could not say', () => {
    expect(() => info({ port: 0 })).toThrow(ConfigError);
    expect(() => info({ host: '' })).toThrow(ConfigError);
    expect(() => info({ params: { password: 'x' } })).toThrow(/"password" cannot be a connection parameter/);
  });
});

describe('a URL that cannot be read', () => {
  const SECRET = 'Sup3r-s3cret';
  test.each([
    ['an unencoded # in the password', `postgres://app:${SECRET}#x@h/db`],
    ['an unencoded / in the password', `postgres://app:${SECRET}/x@h/db`],
    ['a port out of range', `postgres://app:${SECRET}@h:99999/db`],
    ['a port that is no number', `postgres://app:${SECRET}@h/db?port=${SECRET}x`],
    ['another scheme', `mysql://app:${SECRET}@h/db`],
    ['no URL at all', `${SECRET}`],
    ['an escape that is not UTF-8', `postgres://app:${SECRET}%C3@h/db`],
  ])('%s is a ConfigError naming "url", without the password', (_, url) => {
    let caught: unknown;
    try {
      parseConnectionString(url);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.exitCode).toBe(2);
    expect(error.details.key).toBe('url');
    expect(error.message).toMatch(/^"url" /);
    expect(inspect(error, { depth: 10 })).not.toContain(SECRET);
  });

  test('a port out of range in the query is shown; it is only digits', () => {
    expect(() => parseConnectionString('postgres://h/db?port=70000')).toThrow('"url" has a port 70000; expected a TCP port (1-65535)');
  });

  test('the key can be another name, e.g. an environment variable', () => {
    expect(() => parseConnectionString('http://h', { key: 'DATABASE_URL' })).toThrow(/^"DATABASE_URL" must be a postgres:\/\/ or postgresql:\/\/ URL, got a http: URL$/);
  });

  test("pg-connection-string's own refusal is passed on", () => {
    expect(() => parseConnectionString('postgres://h/db?uselibpqcompat=true&sslmode=verify-ca')).toThrow(/^"url" cannot be used: SECURITY WARNING: Using sslmode=verify-ca requires specifying a CA with sslrootcert/);
  });

  test('a TLS file that cannot be read is named', () => {
    expect(() => parseConnectionString('postgres://h/db?sslrootcert=%2Fnonexistent%2Fca.pem')).toThrow(/"url" names a TLS file that cannot be read: \/nonexistent\/ca.pem \(ENOENT\)/);
  });
});

describe('mergeCredentials', () => {
  const fromUrl = parseConnectionString('postgres://app@h/db?sslmode=disable');

  test('fills in what the URL lacks and keeps the rest', () => {
    expect(mergeCredentials(fromUrl, { user: 'app', password: 'pw', database: 'db' })).toEqual(
      info({ host: 'h', port: 5432, user: 'app', password: 'pw', database: 'db', params: { sslmode: 'disable' } }),
    );
    expect(mergeCredentials(fromUrl, {})).toEqual(fromUrl);
  });

  test('a different value is a ConfigError naming both places, never the password', () => {
    const withPassword = parseConnectionString('postgres://app:url-secret@h/db');
    const attempt = () => mergeCredentials(withPassword, { password: 'flag-secret' }, { password: '--password' });
    expect(attempt).toThrow('--password contradicts the password in "url"; give the password in one place only');
    try {
      attempt();
    } catch (error) {
      expect((error as ConfigError).exitCode).toBe(2);
      expect((error as ConfigError).details.key).toBe('password');
      expect(inspect(error)).not.toMatch(/url-secret|flag-secret/);
    }
    expect(() => mergeCredentials(fromUrl, { user: 'bob' }, { url: 'DATABASE_URL', user: 'E2E_USER' })).toThrow(
      'E2E_USER "bob" contradicts the user "app" in DATABASE_URL; give the user in one place only',
    );
    expect(() => mergeCredentials(fromUrl, { database: 'other' })).toThrow('"database" "other" contradicts the database "db" in "url"');
  });
});

describe('against the suite Postgres', () => {
  const suffix = randomBytes(3).toString('hex');
  const role = `u:@/?#% ü'"+&=;$,_${suffix}`;
  const plainDb = `d/;:@&=+$, %ü'"_${suffix}`;
  const oddDb = `q?h#%3F_${suffix}`;
  let admin: ConnectionInfo;
  let psql: string;

  beforeAll(async () => {
    psql = join(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim(), 'psql');
    admin = connectionInfo(inject('pgAdmin'));
    await withClient(pgClientConfig(admin), async (client) => {
      // The server quotes the names and the password itself (format %I, %L): nothing is joined here.
      await execFormatted(client, 'CREATE ROLE %I LOGIN PASSWORD %L', role, NASTY);
      for (const db of [plainDb, oddDb]) await execFormatted(client, 'CREATE DATABASE %I OWNER %I', db, role);
    });
  });

  afterAll(async () => {
    if (!admin) return;
    await withClient(pgClientConfig(admin), async (client) => {
      for (const db of [plainDb, oddDb]) await execFormatted(client, 'DROP DATABASE IF EXISTS %I WITH (FORCE)', db);
      await execFormatted(client, 'DROP ROLE IF EXISTS %I', role);
    });
  });

  const target = (database: string, params: Record<string, string> = PARAMS) =>
    connectionInfo({ host: admin.host, port: admin.port, user: role, password: NASTY, database, params });

  const expected = (database: string) => ({
    user: role,
    database,
    application_name: PARAMS.application_name,
    statement_timeout: '4321ms',
    search_path: 'e2e_schema',
    ssl: false,
  });

  test('pg logs in through the formatted URL and honours every parameter', async () => {
    const url = formatConnectionString(target(plainDb));
    expect(await withClient({ connectionString: url }, whoAmI)).toEqual(expected(plainDb));
  });

  test('psql (libpq) logs in through the same URL and honours every parameter', async () => {
    const url = formatConnectionString(target(plainDb));
    expect(JSON.parse(await runPsql(psql, url, WHO_AM_I))).toEqual(expected(plainDb));
  });

  test('a database with ? and #: pgClientConfig and psql both reach it', async () => {
    const info = target(oddDb);
    expect(await withClient(pgClientConfig(info), whoAmI)).toEqual(expected(oddDb));
    expect(JSON.parse(await runPsql(psql, formatConnectionString(info), WHO_AM_I))).toEqual(expected(oddDb));
  });

  test('pgClientConfig turns connect_timeout into connectionTimeoutMillis', () => {
    expect(pgClientConfig(target(plainDb)).connectionTimeoutMillis).toBe(7000);
    expect(pgClientConfig(target(plainDb, { connect_timeout: '0' })).connectionTimeoutMillis).toBeUndefined();
  });

  test('a wrong password is refused, so the logins above prove the password arrived intact', async () => {
    const wrong = connectionInfo({ ...target(plainDb), password: `${NASTY}x` });
    await expect(withClient(pgClientConfig(wrong), whoAmI)).rejects.toMatchObject({ code: '28P01' });
  });

  // The suite's server has no TLS: every mode that asks pg for TLS must fail, none may fall back.
  test.each(['require', 'prefer', 'allow', 'verify-ca', 'verify-full', 'no-verify'])(
    'sslmode=%s: pg refuses to talk in plaintext (URL and pgClientConfig alike)',
    async (sslmode) => {
      const info = target(plainDb, { sslmode });
      await expect(withClient({ connectionString: formatConnectionString(info) }, whoAmI)).rejects.toThrow('The server does not support SSL connections');
      await expect(withClient(pgClientConfig(info), whoAmI)).rejects.toThrow('The server does not support SSL connections');
    },
  );

  test('uselibpqcompat=true&sslmode=require: pg still insists on TLS', async () => {
    const info = target(plainDb, { uselibpqcompat: 'true', sslmode: 'require' });
    await expect(withClient(pgClientConfig(info), whoAmI)).rejects.toThrow('The server does not support SSL connections');
  });

  test('sslmode=disable, or no sslmode, connects in plaintext', async () => {
    expect(await withClient(pgClientConfig(target(plainDb, { sslmode: 'disable' })), whoAmI)).toMatchObject({ ssl: false });
    expect(await withClient(pgClientConfig(target(plainDb, {})), whoAmI)).toMatchObject({ ssl: false, user: role });
  });

  test('libpq differs: sslmode=require fails, sslmode=prefer falls back to plaintext', async () => {
    await expect(runPsql(psql, formatConnectionString(target(plainDb, { sslmode: 'require' })), 'select 1')).rejects.toThrow(/SSL/);
    const viaPrefer = JSON.parse(await runPsql(psql, formatConnectionString(target(plainDb, { ...PARAMS, sslmode: 'prefer' })), WHO_AM_I));
    expect(viaPrefer).toEqual(expected(plainDb));
  });
});

const WHO_AM_I = `select json_build_object(
  'user', current_user,
  'database', current_database(),
  'application_name', current_setting('application_name'),
  'statement_timeout', current_setting('statement_timeout'),
  'search_path', current_setting('search_path'),
  'ssl', (select ssl from pg_stat_ssl where pid = pg_backend_pid()))::text as who`;

async function whoAmI(client: pg.Client): Promise<unknown> {
  const { rows } = await client.query<{ who: string }>(WHO_AM_I);
  return JSON.parse(rows[0]!.who);
}

async function withClient<T>(config: pg.ClientConfig, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionTimeoutMillis: 10_000, ...config });
  client.on('error', () => undefined); // a failed connect rejects connect(); this keeps a late socket error quiet
  try {
    await client.connect();
    return await body(client);
  } finally {
    await client.end().catch(() => undefined); // ending a client that never connected can fail; the real error is above
  }
}

async function execFormatted(client: pg.Client, template: string, ...args: string[]): Promise<void> {
  const placeholders = args.map((_, index) => `$${index + 2}::text`).join(', ');
  const { rows } = await client.query<{ sql: string }>(`select format($1::text, ${placeholders}) as sql`, [template, ...args]);
  await client.query(rows[0]!.sql);
}

/** psql with an argument array, no rc file, no password prompt, no PG* variables from our environment. */
async function runPsql(psql: string, url: string, sql: string): Promise<string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PG')));
  const { stdout } = await run(psql, ['--no-psqlrc', '--no-password', '--tuples-only', '--no-align', '--dbname', url, '--command', sql], {
    env: { ...env, PGCLIENTENCODING: 'UTF8', PGCONNECT_TIMEOUT: '10' },
    timeout: 30_000,
  });
  return stdout.trim();
}
