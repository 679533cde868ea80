import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { DatabaseError } from '../errors/errors.ts';
import type { ConnectionInfo } from '../target/target.ts';

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Opens a small Kysely pool on a connection and proves it works with one round trip, so
 * an unreachable server or a wrong password is reported here, naming host:port, database
 * and user — never the password.
 */
export async function connect<DB = any>(connection: ConnectionInfo): Promise<Kysely<DB>> {
  const pool = new pg.Pool({
    host: connection.host,
    port: connection.port,
    user: connection.user,
    password: connection.password,
    database: connection.database,
    max: 4,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'e2e-migrations',
  });
  // An idle client that loses its server (a dropped tunnel) must not crash the process.
  pool.on('error', () => {});
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy().catch(() => {});
    throw connectFailure(connection, error);
  }
  return db;
}

export function connectFailure(connection: ConnectionInfo, error: unknown): DatabaseError {
  const where = `${connection.host}:${connection.port}`;
  const code = (error as { code?: string }).code;
  const reason =
    code === '28P01' || code === '28000'
      ? `login refused for user "${connection.user}" (wrong password or user)`
      : code === '3D000'
        ? `database "${connection.database}" does not exist`
        : code === 'ECONNREFUSED'
          ? 'connection refused (is Postgres running and listening there?)'
          : (error as Error).message;
  return new DatabaseError(
    `cannot connect to Postgres at ${where} (database "${connection.database}", user "${connection.user}"): ${reason}`,
    { host: connection.host, port: connection.port, database: connection.database, user: connection.user },
    { cause: error },
  );
}
