import pg from 'pg';
import { pgClientConfig, type ConnectionInfo } from './connection-string.ts';

const CONNECT_TIMEOUT_MS = 10_000;

/** A connection of our own to `connection`, its errors listened to (a dropped tunnel must not kill the process). */
export async function openClient(connection: ConnectionInfo, applicationName = 'e2e-migrations'): Promise<pg.Client> {
  const config = pgClientConfig(connection);
  const client = new pg.Client({ fallback_application_name: applicationName, ...config, connectionTimeoutMillis: config.connectionTimeoutMillis ?? CONNECT_TIMEOUT_MS });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined); // the connect error is the one to report
    throw error;
  }
  return client;
}
