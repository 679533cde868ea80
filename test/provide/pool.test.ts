import pg from 'pg';
import { describe, expect, inject, test } from 'vitest';
import type { ConnectionInfo } from '../../src/postgres/connection-string.ts';
import { claimDatabase, dropClones, templateLockKey } from '../../src/provide/clone.ts';
import { clonePrefix, pooledPrefix } from '../../src/provide/clone-names.ts';
import { ClonePool } from '../../src/provide/clone-pool.ts';
import { chooseStrategy, cloneStrategy, createFromTemplate } from '../../src/provide/create-from-template.ts';
import { parseRecord } from '../../src/provide/database-record.ts';
import { ensureTemplate } from '../../src/provide/template.ts';
import { startSession } from '../../src/session/start-session.ts';
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts';

// A partition window no other test file uses: the template is this file's own (isolate.test.ts counts builds).
const BLOCK = { tables: ['audit_events'], partitions: { monthsBack: 5, monthsAhead: 1 } };

async function withAdmin<T>(body: (client: pg.Client) => Promise<T>, database?: string): Promise<T> {
  const client = new pg.Client({ ...inject('pgAdmin'), ...(database ? { database } : {}) });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

async function names(like: string): Promise<string[]> {
  return withAdmin(async (client) => (await client.query<{ datname: string }>('select datname from pg_database where starts_with(datname, $1) order by datname', [like])).rows.map((r) => r.datname));
}

/** Waits (polling the catalog, with a deadline) until `count` pooled databases of `prefix` exist. */
async function pooled(prefix: string, count: number, timeoutMs = 30_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await names(pooledPrefix(prefix));
    if (found.length === count) return found;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${count} pooled databases of ${prefix}; found ${found.length}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A database with the template of BLOCK built on the suite's server. */
async function withTemplate(prefix: string): Promise<{ db: FreshDatabase; template: string }> {
  const db = await freshDatabase(prefix);
  await using session = await startSession({ url: db.url, ...BLOCK, logger: false });
  return { db, template: (await ensureTemplate(session)).name };
}

async function hasAuditEvents(connection: ConnectionInfo): Promise<boolean> {
  const client = new pg.Client({ ...connection });
  await client.connect();
  try {
    return (await client.query("select to_regclass('audit_events') is not null as ok")).rows[0].ok;
  } finally {
    await client.end();
  }
}

describe('the strategy of CREATE DATABASE', () => {
  test('FILE_COPY where fsync is off (checkpoints are free), the server default where it is on, none before 15', () => {
    expect(chooseStrategy(140_011, false)).toBeUndefined();
    expect(chooseStrategy(150_004, true)).toBe('WAL_LOG');
    expect(chooseStrategy(160_004, false)).toBe('FILE_COPY');
  });

  test('createFromTemplate copies a template with the strategy chosen for the server (the embedded one runs without fsync)', async () => {
    const { db, template } = await withTemplate('strategy');
    await using _db = db;
    const prefix = clonePrefix(template);
    const [name, other] = [`${prefix}0badc0de`, `${prefix}0badc0df`];
    try {
      await withAdmin(async (client) => {
        expect(await cloneStrategy(client)).toBe('FILE_COPY');
        await createFromTemplate(client, template, name);
        await createFromTemplate(client, template, other, 'WAL_LOG');
        await expect(createFromTemplate(client, template, name)).rejects.toMatchObject({ code: '42P04' });
      });
      expect(await hasAuditEvents({ ...db.connection, database: name })).toBe(true);
      expect(await hasAuditEvents({ ...db.connection, database: other })).toBe(true);
    } finally {
      await dropClones(db.connection, prefix);
    }
  });
});

describe('the pool of clones', () => {
  test('many claimants at once: each pooled database is handed out once, the rest are cloned, and every one is usable', async () => {
    const { db, template } = await withTemplate('pool_race');
    await using _db = db;
    const prefix = clonePrefix(template);
    const pool = ClonePool.start(db.connection, template, prefix, { ahead: 6, total: 6 });
    try {
      const ready = await pooled(prefix, 6);
      const files = await Promise.all(Array.from({ length: 14 }, () => claimDatabase(db.connection, template, prefix)));
      const databases = files.map((f) => f.connection.database);
      expect(new Set(databases).size).toBe(14);
      expect(files.filter((f) => f.claimed)).toHaveLength(6);
      expect(await names(pooledPrefix(prefix))).toEqual([]); // all six were taken, none twice
      expect((await names(prefix)).sort()).toEqual([...databases].sort());
      expect(ready.every((name) => !databases.includes(name))).toBe(true); // claimed under new names
      for (const file of files.slice(0, 3)) expect(await hasAuditEvents(file.connection)).toBe(true);
      expect(await pool.stop()).toEqual({ made: 6, claimed: 6 });
    } finally {
      await pool.stop();
      await dropClones(db.connection, prefix);
    }
    expect(await names(prefix)).toEqual([]);
  });

  test('an empty pool falls back to a clone; the filler tops the pool up after each claim, up to its total', async () => {
    const { db, template } = await withTemplate('pool_topup');
    await using _db = db;
    const prefix = clonePrefix(template);
    const direct = await claimDatabase(db.connection, template, prefix); // no pool at all
    expect(direct.claimed).toBe(false);
    expect(await hasAuditEvents(direct.connection)).toBe(true);
    const owner = await withAdmin(async (c) => (await c.query("select shobj_description(oid, 'pg_database') as c from pg_database where datname = $1", [direct.connection.database])).rows[0].c);
    expect(parseRecord(owner)).toMatchObject({ kind: 'clone', owner: { pid: process.pid } });

    const pool = ClonePool.start(db.connection, template, prefix, Promise.resolve({ ahead: 2, total: 3 }));
    try {
      await pooled(prefix, 2);
      expect((await claimDatabase(db.connection, template, prefix)).claimed).toBe(true);
      await pooled(prefix, 2); // topped up: the third and last
      expect((await claimDatabase(db.connection, template, prefix)).claimed).toBe(true);
      expect((await claimDatabase(db.connection, template, prefix)).claimed).toBe(true);
      expect((await claimDatabase(db.connection, template, prefix)).claimed).toBe(false); // total reached: cloned
    } finally {
      expect(await pool.stop()).toEqual({ made: 3, claimed: 3 });
      await dropClones(db.connection, prefix);
    }
    expect(await names(prefix)).toEqual([]);
  });

  test('stopping at once waits for the copy in progress: after the drop nothing of the run is left', async () => {
    const { db, template } = await withTemplate('pool_stop');
    await using _db = db;
    const prefix = clonePrefix(template);
    const pool = ClonePool.start(db.connection, template, prefix, { ahead: 8 });
    const summary = await pool.stop();
    expect(summary.claimed).toBe(0);
    expect(await dropClones(db.connection, prefix)).toHaveLength(summary.made);
    expect(await names(prefix)).toEqual([]);
  });

  test('a claim waits while the template is locked exclusively (being built or migrated), then succeeds', async () => {
    const { db, template } = await withTemplate('pool_lock');
    await using _db = db;
    const prefix = clonePrefix(template);
    const pool = ClonePool.start(db.connection, template, prefix, { ahead: 1, total: 1 });
    await pooled(prefix, 1);
    const holder = new pg.Client({ ...db.connection });
    await holder.connect();
    try {
      await holder.query('select pg_advisory_lock(hashtextextended($1, 0))', [templateLockKey(template)]);
      const claim = claimDatabase(db.connection, template, prefix);
      // Until the lock shows a waiter, the claim has not got past it.
      const deadline = Date.now() + 20_000;
      for (;;) {
        const { rows } = await holder.query("select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())");
        if (rows[0].n > 0) break;
        if (Date.now() > deadline) throw new Error('the claim never waited for the template lock');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(await names(pooledPrefix(prefix))).toHaveLength(1); // not taken while locked
      await holder.query('select pg_advisory_unlock(hashtextextended($1, 0))', [templateLockKey(template)]);
      expect((await claim).claimed).toBe(true);
    } finally {
      await holder.end();
      await pool.stop();
      await dropClones(db.connection, prefix);
    }
  });
});
