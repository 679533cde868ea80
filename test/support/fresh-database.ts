import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { withClient } from './with-client.ts';
import { formatConnectionString, type ConnectionInfo } from '../../src/postgres/connection-string.ts';

export interface FreshDatabase extends AsyncDisposable {
  readonly connection: ConnectionInfo;
  readonly url: string;
  drop(): Promise<void>;
}

/** Creates an empty database with a unique name in the suite's Postgres. */
export async function freshDatabase(prefix = 't'): Promise<FreshDatabase> {
  const admin = inject('pgAdmin');
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await withClient(admin, (client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`));
  const connection = Object.freeze({ ...admin, database: name });
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await withClient(admin, (client) => client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`));
  };
  return { connection, url: formatConnectionString(connection), drop, [Symbol.asyncDispose]: drop };
}

