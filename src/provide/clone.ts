import pg from 'pg';
import { DatabaseError } from '../errors/errors.ts';
import type { ConnectionInfo } from '../postgres/connection-string.ts';
import { openClient } from '../postgres/open-client.ts';
import { assertClonePrefix, assertTemplateName, cloneName } from './clone-names.ts';
import { createFromTemplate, type CloneStrategy } from './create-from-template.ts';
import type { CloneOwner } from './database-record.ts';

/*
 * The cheap side of isolation: only `pg`. Cloning and dropping run on an ordinary connection to the target's own database (CREATE DATABASE may
 * be issued from any database); the template itself is never connected to here.
 */

/** Advisory locks are per database, so every party takes them in the target's database. */
export function templateLockKey(template: string): string {
  return `e2e-migrations:template:${template}`;
}

/** How many databases teardown drops at once: each drop waits on a checkpoint, and parallel drops share it. */
const DROP_CONCURRENCY = 4;

async function withClient<T>(connection: ConnectionInfo, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await openClient(connection);
  try {
    return await body(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Runs `body` holding `template`'s advisory lock in shared mode: copies run in parallel with
 * each other but never while a setup holds it exclusively (building or migrating the template).
 */
export async function withTemplateShared<T>(client: pg.ClientBase, template: string, body: () => Promise<T>): Promise<T> {
  await client.query('select pg_advisory_lock_shared(hashtextextended($1, 0))', [templateLockKey(template)]);
  try {
    return await body();
  } finally {
    await client.query('select pg_advisory_unlock_shared(hashtextextended($1, 0))', [templateLockKey(template)]).catch(() => undefined); // a lost connection released it
  }
}

/**
 * Creates a new database under `prefix` as a copy of `template` and returns its connection.
 * Holds the template's lock in shared mode (see {@link withTemplateShared}). The copy's
 * comment records its run's process (`owner`, default this one), so a later run can prune it
 * once that process is gone.
 */
export async function cloneDatabase(connection: ConnectionInfo, template: string, prefix: string, owner?: CloneOwner): Promise<ConnectionInfo> {
  assertTemplateName(template);
  const name = cloneName(prefix);
  try {
    await withClient(connection, (client) => withTemplateShared(client, template, () => cloneAs(client, template, name, owner)));
  } catch (error) {
    throw isolationFailure(`could not clone the template database "${template}" as "${name}"`, connection, error);
  }
  return Object.freeze({ ...connection, database: name });
}

/**
 * CREATE DATABASE from the template, then the record of whose run it belongs to: `owner`, a
 * record or its JSON as the run hands it to workers (default: this process).
 */
export async function cloneAs(client: pg.ClientBase, template: string, name: string, owner?: CloneOwner | string, strategy?: CloneStrategy): Promise<void> {
  const { cloneRecord, parseOwner, writeRecord } = await import('./database-record.ts');
  await createFromTemplate(client, template, name, strategy);
  await writeRecord(client, name, await cloneRecord(typeof owner === 'string' ? parseOwner(owner) : owner));
}

/**
 * Takes the first of `candidates` that can be had by renaming it to `name`, and returns it;
 * undefined when none could. Postgres renames under an exclusive lock on the database and then
 * finds the old name gone for every other taker (3D000), so each candidate goes to one taker;
 * one with a connection (55006, still being made or looked at) is skipped.
 */
export async function renameFirst(client: pg.ClientBase, candidates: readonly string[], name: string): Promise<string | undefined> {
  for (const candidate of candidates) {
    try {
      await client.query(`ALTER DATABASE ${pg.escapeIdentifier(candidate)} RENAME TO ${pg.escapeIdentifier(name)}`);
      return candidate;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== '3D000' && code !== '55006') throw error;
    }
  }
  return undefined;
}

/** Drops every database whose name starts with `prefix` (the clones and pool of one run); returns their names. */
export async function dropClones(connection: ConnectionInfo, prefix: string): Promise<string[]> {
  assertClonePrefix(prefix);
  try {
    const names = await withClient(connection, async (client) => {
      const { rows } = await client.query<{ datname: string }>('select datname from pg_database where starts_with(datname, $1) order by datname', [prefix]);
      return rows.map((row) => row.datname);
    });
    await dropDatabases(connection, names);
    return names;
  } catch (error) {
    throw isolationFailure(`could not drop the clones "${prefix}*"`, connection, error);
  }
}

/** DROP DATABASE … WITH (FORCE) for each of `names`, a few at a time, on connections of their own. */
export async function dropDatabases(connection: ConnectionInfo, names: readonly string[]): Promise<void> {
  const queue = [...names];
  const worker = () =>
    withClient(connection, async (client) => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    });
  const results = await Promise.allSettled(Array.from({ length: Math.min(DROP_CONCURRENCY, queue.length) }, worker));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
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
