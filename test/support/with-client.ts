import pg from 'pg';
import type { ConnectionInfo } from '../../src/postgres/connection-string.ts';

/** Runs `body` on a plain pg client of `connection`, closed after: for tests and benches that look from outside. */
export async function withClient<T>(connection: ConnectionInfo, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...connection });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}
