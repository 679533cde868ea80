import pg from 'pg';
import { templateLockKey } from './clone.ts';
import { parseRecord, templateRecord, unknownCloneRecord, writeRecord } from './database-record.ts';
import { listIsolationDatabases, UNUSED_TEMPLATE_MAX_AGE_MS } from './isolation-databases.ts';

export interface PruneResult {
  /** Clones of runs that are gone, and spares of templates gone or unused, dropped. */
  readonly clones: readonly string[];
  /** Templates of other migrations unused for {@link UNUSED_TEMPLATE_MAX_AGE_MS}, dropped. */
  readonly templates: readonly string[];
  /** Databases found without a record and given one, so their age counts from now. */
  readonly stamped: readonly string[];
  /** What could not be done, one phrase each (pruning never fails a run: the next one tries again). */
  readonly failures: readonly string[];
}

export interface PruneOptions {
  /** The template this run uses: never pruned. */
  readonly current: string;
  /** @default new Date() */
  readonly now?: Date;
}

/**
 * Housekeeping at setup: drops what earlier runs left on the server and no one will use —
 * clones of runs that died (killed before their teardown), and templates of other migrations
 * nobody has used for a week (see isolation-databases.ts for how each is judged). Only
 * databases of our name shapes, and only those the user owns. A template is never dropped
 * while anyone holds its advisory lock — in any database of the server, as pg_locks shows it —
 * nor when its record says it was used since it was listed. Cheap when there is nothing to do:
 * one catalog query and a look at the process table.
 */
export async function pruneIsolation(client: pg.ClientBase, options: PruneOptions): Promise<PruneResult> {
  const now = options.now ?? new Date();
  const clones: string[] = [];
  const templates: string[] = [];
  const stamped: string[] = [];
  const failures: string[] = [];
  let listed;
  try {
    listed = await listIsolationDatabases(client, { current: options.current, now });
  } catch (error) {
    return { clones, templates, stamped, failures: [`could not list the isolation databases: ${(error as Error).message}`] };
  }
  for (const database of listed.filter((d) => d.owned)) {
    const quoted = pg.escapeIdentifier(database.name);
    try {
      if (database.kind !== 'template' && database.state === 'stale') {
        await client.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
        clones.push(database.name);
      } else if (database.kind === 'clone' && database.state === 'unknown') {
        await writeRecord(client, database.name, unknownCloneRecord(now));
        stamped.push(database.name);
      } else if (database.kind === 'template' && database.state !== 'current' && database.since === undefined) {
        await writeRecord(client, database.name, templateRecord(now));
        stamped.push(database.name);
      } else if (database.kind === 'template' && database.state === 'stale') {
        if (await dropUnusedTemplate(client, database.name, now)) templates.push(database.name);
      }
    } catch (error) {
      failures.push(`${database.name}: ${(error as Error).message}`);
    }
  }
  return Object.freeze({ clones, templates, stamped, failures });
}

/**
 * Drops a template under its lock, taken here without waiting; false when someone holds the
 * lock (here or in another database: advisory locks are per database, pg_locks shows all), or
 * when its record now says it was used lately.
 */
async function dropUnusedTemplate(client: pg.ClientBase, name: string, now: Date): Promise<boolean> {
  const key = templateLockKey(name);
  const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock(hashtextextended($1, 0)) as locked', [key]);
  if (!rows[0]?.locked) return false;
  try {
    const { rows: state } = await client.query<{ held: boolean; comment: string | null }>(
      `select exists (select 1 from pg_locks
                       where locktype = 'advisory' and objsubid = 1 and pid <> pg_backend_pid()
                         and ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)) as held,
              (select shobj_description(oid, 'pg_database') from pg_database where datname = $2) as comment`,
      [key, name],
    );
    const record = parseRecord(state[0]?.comment);
    const unused = record?.kind === 'template' && now.getTime() - Date.parse(record.usedAt) > UNUSED_TEMPLATE_MAX_AGE_MS;
    if (state[0]?.held || !unused) return false;
    const quoted = pg.escapeIdentifier(name);
    // A template cannot be dropped; unmarked, a half-dropped one is what a crashed build leaves, which a run rebuilds.
    await client.query(`ALTER DATABASE ${quoted} IS_TEMPLATE false`);
    await client.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
    return true;
  } finally {
    await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => undefined); // a lost connection released it
  }
}
