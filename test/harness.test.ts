import pg from 'pg';
import { expect, test } from 'vitest';
import { freshDatabase } from './support/fresh-database.ts';

test('the suite has a real Postgres 16 and fresh databases in it', async () => {
  await using db = await freshDatabase();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const { rows } = await client.query<{ v: string }>("select current_setting('server_version') as v");
  await client.end();
  expect(rows[0]?.v).toMatch(/^16\./);
});
