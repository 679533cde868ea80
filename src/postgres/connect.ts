import pg from 'pg';
import { DatabaseError } from '../errors/errors.ts';
import { pgClientConfig, type ConnectionInfo } from './connection-string.ts';

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * One connection to Postgres, used for everything a run does on one database (ledger, lock,
 * migrations through Kysely, verification). One connection, not a pool: the work is
 * sequential, and one client is one thing to watch and to close.
 */
export interface Postgres {
  readonly connection: ConnectionInfo;
  /** The pg client, for adapters (Kysely's dialect). Its errors are already listened to. */
  readonly client: pg.Client;
  query<R extends pg.QueryResultRow = any>(text: string, values?: readonly unknown[]): Promise<pg.QueryResult<R>>;
  /** Set once the connection is gone (dropped tunnel, server stopped): a DatabaseError saying so. */
  readonly lost: DatabaseError | undefined;
  close(): Promise<void>;
}

/**
 * Connects and proves it with the first round trip, so an unreachable server or a wrong
 * password is reported here, naming host:port, database and user — never the password.
 *
 * The client listens for `error` for its whole life: pg emits it when the connection ends
 * outside a query (a Kind tunnel dropping between statements), and an unheard `error`
 * event kills the process. The loss is remembered and surfaces as a DatabaseError from the
 * next query instead.
 */
export async function connect(connection: ConnectionInfo, applicationName = 'e2e-migrations'): Promise<Postgres> {
  // Every URL parameter (sslmode, options, application_name …) means what it says; ours only
  // fill in what the URL leaves open.
  const config = pgClientConfig(connection);
  const client = new pg.Client({
    fallback_application_name: applicationName,
    ...config,
    connectionTimeoutMillis: config.connectionTimeoutMillis ?? CONNECT_TIMEOUT_MS,
  });
  let lost: DatabaseError | undefined;
  let closing = false;
  const onLoss = (error?: Error) => {
    if (closing || lost) return;
    lost = connectionLost(connection, error);
  };
  client.on('error', onLoss);
  client.on('end', () => onLoss());
  try {
    await client.connect();
  } catch (error) {
    closing = true;
    await client.end().catch(() => undefined); // the connect error is the one to report
    throw connectFailure(connection, error);
  }
  return {
    connection,
    client,
    get lost() {
      return lost;
    },
    async query(text, values) {
      if (lost) throw lost;
      try {
        return await client.query(text, values as unknown[]);
      } catch (error) {
        throw lost ?? (isConnectionError(error) ? connectionLost(connection, error as Error) : error);
      }
    },
    async close() {
      if (closing) return;
      closing = true;
      await client.end().catch(() => undefined); // a connection that is already gone is closed
    },
  };
}

/** A failure of the connection itself (no SQLSTATE): the server went away, not the SQL. */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code.startsWith('08') || code === '57P01';
  return /Connection terminated|ECONNRESET|ECONNREFUSED|EPIPE|socket hang up|Client has encountered a connection error|not queryable/i.test(String(message));
}

export function connectionLost(connection: ConnectionInfo, error?: Error): DatabaseError {
  return new DatabaseError(
    `lost the connection to Postgres at ${connection.host}:${connection.port} (database "${connection.database}"): ${error?.message ?? 'the server closed it'}`,
    { host: connection.host, port: connection.port, database: connection.database, user: connection.user },
    { cause: error },
  );
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
