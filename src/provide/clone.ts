import pg from 'pg';
import { DatabaseError } from '../errors/errors.ts';
import type { ConnectionInfo } from '../postgres/connection-string.ts';
import { assertClonePrefix, assertTemplateName, cloneName } from './clone-names.ts';

/*
 * The cheap side of isolation, safe to import from test workers: only `pg`. Cloning and
 * dropping run on an ordinary connection to the target's own database (CREATE DATABASE may
 * be issued from any database); the template itself is never connected to here.
 */

/** Advisory locks are per database, so every party takes them in the target's database. */
export function templateLockKey(template: string): string {
  return `e2e-migrations:template:${template}`;
}

const CONNECT_TIMEOUT_MS = 10_000;

async function withClient<T>(connection: ConnectionInfo, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'e2e-migrations' });
  client.on('error', () => {});
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Creates a new database under `prefix` as a copy of `template` and returns its connection.
 * Holds the template's lock in shared mode, so clones run in parallel with each other but
 * never while a setup is migrating the template.
 */
export async function cloneDatabase(connection: ConnectionInfo, template: string, prefix: string): Promise<ConnectionInfo> {
  assertTemplateName(template);
  const name = cloneName(prefix);
  try {
    await withClient(connection, async (client) => {
      await client.query('select pg_advisory_lock_shared(hashtextextended($1, 0))', [templateLockKey(template)]);
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)}`);
      } finally {
        await client.query('select pg_advisory_unlock_shared(hashtextextended($1, 0))', [templateLockKey(template)]);
      }
    });
  } catch (error) {
    throw isolationFailure(`could not clone the template database "${template}" as "${name}"`, connection, error);
  }
  return Object.freeze({ ...connection, database: name });
}

/** Drops every database whose name starts with `prefix` (the clones of one run); returns their names. */
export async function dropClones(connection: ConnectionInfo, prefix: string): Promise<string[]> {
  assertClonePrefix(prefix);
  try {
    return await withClient(connection, async (client) => {
      const { rows } = await client.query<{ datname: string }>(
        'select datname from pg_database where starts_with(datname, $1) order by datname',
        [prefix],
      );
      for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`);
      return rows.map((row) => row.datname);
    });
  } catch (error) {
    throw isolationFailure(`could not drop the clones "${prefix}*"`, connection, error);
  }
}

export function isolationFailure(what: string, connection: ConnectionInfo, error: unknown): DatabaseError {
  const code = (error as { code?: string }).code;
  const reason =
    code === '42501'
      ? `user "${connection.user}" may not create databases; isolate: 'file' needs a user with CREATEDB (or use isolate: false)`
      : (error as Error).message;
  return new DatabaseError(`${what} on ${connection.host}:${connection.port}: ${reason}`, {
    host: connection.host,
    port: connection.port,
    database: connection.database,
    user: connection.user,
  }, { cause: error });
}
