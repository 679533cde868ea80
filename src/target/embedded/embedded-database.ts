import { randomBytes } from 'node:crypto';
import { DatabaseError } from '../../errors/errors.ts';
import { openClient } from '../../postgres/open-client.ts';
import type { StartedTarget } from '../target.ts';
import type { EmbeddedServer } from './embedded-server.ts';

export interface EmbeddedDatabaseOptions {
  /** The block's `database`: the name itself when shared, the stem of a name of its own otherwise. */
  readonly database: string;
  /** Work in `database` itself, together with the other holders that say so. @default false */
  readonly shareDatabase?: boolean;
  /** Words for the description, e.g. `shared by this run's projects` or `reused`. */
  readonly how: string;
}

// Holders of one shared database on one server, per process: the last one to close drops it.
const HOLDERS = Symbol.for('e2e-migrations.shared-embedded-databases');
function holders(): Map<string, number> {
  const holder = globalThis as { [HOLDERS]?: Map<string, number> };
  return (holder[HOLDERS] ??= new Map());
}

/** Postgres truncates identifiers past 63 bytes; our suffix must survive that. */
const STEM_BYTES = 48;

/**
 * A session's target on a server it does not own alone (shared by a test run's projects, or
 * reused between runs): a database of the session's own — `<database>_<8 hex>` — or, with
 * `shareDatabase`, the block's `database` shared with the other holders that say so. The
 * database does not exist yet (`provision`): the session creates it as a clone of the
 * template its plan migrated, so a second project, or the next run, pays a clone instead of
 * the migrations. Closing drops it (a shared one when its last holder closes), then releases
 * the server.
 */
export function embeddedDatabase(server: EmbeddedServer, options: EmbeddedDatabaseOptions): StartedTarget {
  const database = options.shareDatabase ? options.database : `${stem(options.database)}_${randomBytes(4).toString('hex')}`;
  const key = `${server.admin.port}/${database}`;
  if (options.shareDatabase) holders().set(key, (holders().get(key) ?? 0) + 1);
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      try {
        if (options.shareDatabase) {
          const left = (holders().get(key) ?? 1) - 1;
          if (left > 0) return void holders().set(key, left);
          holders().delete(key);
        }
        await dropDatabase(server, database);
      } finally {
        await server.close();
      }
    })());
  return Object.freeze({
    kind: 'embedded' as const,
    connection: Object.freeze({ ...server.admin, database }),
    description: `${server.description} (${options.how}), database ${database}`,
    provision: Object.freeze({ adminDatabase: server.admin.database }),
    close,
    [Symbol.asyncDispose]: close,
  });
}

function stem(name: string): string {
  const bytes = Buffer.from(name);
  return bytes.length <= STEM_BYTES ? name : bytes.subarray(0, STEM_BYTES).toString().replace(/\uFFFD+$/, '');
}

async function dropDatabase(server: EmbeddedServer, database: string): Promise<void> {
  try {
    const client = await openClient(server.admin);
    try {
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(database)} WITH (FORCE)`);
    } finally {
      await client.end().catch(() => undefined);
    }
  } catch (error) {
    throw new DatabaseError(`could not drop the run's database "${database}" on ${server.description}: ${(error as Error).message}`, { host: server.admin.host, port: server.admin.port, database }, { cause: error });
  }
}
