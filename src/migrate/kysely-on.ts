import { Kysely, PostgresDialect } from 'kysely';
import type { Postgres } from '../postgres/connect.ts';

/**
 * A Kysely instance on the run's one connection. Kysely's driver expects a pool that lends
 * clients; this "pool" always lends the same client and never ends it: the connection
 * belongs to the run, which closes it in its teardown. Queries go through `Postgres.query`,
 * so a dropped connection surfaces as a DatabaseError here too.
 *
 * Imported on demand (`await import`): loading Kysely costs more than the rest of a run that
 * has nothing to apply.
 */
export function kyselyOn(pg: Postgres): Kysely<any> {
  const lease = {
    query: (text: string, values: unknown[]) => pg.query(text, values),
    release: () => undefined,
    get processID() {
      return (pg.client as unknown as { processID?: number }).processID;
    },
  };
  const pool = { connect: async () => lease, end: async () => undefined };
  return new Kysely<any>({ dialect: new PostgresDialect({ pool: pool as never }) });
}
