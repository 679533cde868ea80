import { createRequire } from 'node:module';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, inject, test } from 'vitest';
import { applyMigrations } from '../../src/api/apply-migrations.ts';
import { prepareDatabase } from '../../src/api/prepare-database.ts';
import { resetDatabase } from '../../src/api/reset-database.ts';
import { ConfigError, DatabaseError } from '../../src/errors/errors.ts';
import { formatConnectionString, type ConnectionInfo } from '../../src/postgres/connection-string.ts';
import { cloneDatabase, dropClones } from '../../src/provide/clone.ts';
import { clonePrefix } from '../../src/provide/clone-names.ts';
import { closeKeptConnection, keptConnection } from '../../src/provide/kept-connection.ts';
import { ENV } from '../../src/provide/provided.ts';
import { DELETE_MAX_BYTES, LOCK_TIMEOUT_MS } from '../../src/provide/reset-tables.ts';
import { SEED_SCHEMA } from '../../src/provide/seed-sql.ts';
import { JEST_DATABASE_KEY } from '../../src/runners/jest/database.ts';
import { startSession } from '../../src/session/start-session.ts';
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts';

const SELECTION = ['audit_events', 'audit_retention_policies', 'retention_operations', 'oscillation_patterns'];
const SEED_CATEGORIES = ['analysis', 'apifrontend', 'gateway', 'notification', 'remediation', 'workflow'];

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function database(prefix: string): Promise<FreshDatabase> {
  const db = await freshDatabase(prefix);
  cleanups.push(() => db.drop());
  return db;
}

async function client(connection: ConnectionInfo): Promise<pg.Client> {
  const c = new pg.Client({ ...connection });
  await c.connect();
  cleanups.push(() => c.end());
  return c;
}

/** One audit event dated today (UTC), so it lands in this month's partition. */
async function writeEvent(c: pg.Client, correlation: string, legalHold = false): Promise<void> {
  await c.query(
    `insert into audit_events (event_date, event_type, event_category, event_action, event_outcome, correlation_id, resource_type, resource_id, actor_type, actor_id, event_data, legal_hold)
     values ((now() at time zone 'UTC')::date, 'test.write', 'test', 'write', 'success', $1, 'test', 'r1', 'test', 'reset.test', '{}', $2)`,
    [correlation, legalHold],
  );
}

async function policies(c: pg.Client): Promise<{ event_category: string; retention_days: number }[]> {
  return (await c.query('select event_category, retention_days from audit_retention_policies order by event_category')).rows;
}

async function count(c: pg.Client, table: string): Promise<number> {
  return (await c.query<{ n: number }>(`select count(*)::int as n from ${c.escapeIdentifier(table)}`)).rows[0]!.n;
}

const thisMonthsPartition = () => {
  const now = new Date();
  return `audit_events_${now.getUTCFullYear()}_${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
};

describe('resetDatabase() on a database prepareDatabase() migrated', () => {
  test('rows written are gone, legal hold or not; seed rows are back as migrating left them; sequences continue as after migrating', async () => {
    const db = await database('reset');
    await using prepared = await prepareDatabase({ url: db.url, tables: SELECTION, logger: false });
    const c = await client(prepared.connection);
    const before = await policies(c);
    expect(before.map((p) => p.event_category)).toEqual(SEED_CATEGORIES);
    const seedPatterns = await count(c, 'oscillation_patterns');
    expect(seedPatterns).toBeGreaterThan(0);
    const firstPatternId = (await c.query<{ id: string }>("insert into oscillation_patterns (pattern_name, pattern_type, prevention_strategy) values ('t', 't', 't') returning id")).rows[0]!.id;
    const firstOperationId = (await c.query<{ id: string }>('insert into retention_operations default values returning id')).rows[0]!.id;

    await writeEvent(c, 'plain');
    await writeEvent(c, 'held', true);
    await expect(c.query("delete from audit_events where correlation_id = 'held'")).rejects.toThrow(/legal hold/);
    await c.query("delete from audit_retention_policies where event_category = 'gateway'");
    await c.query("update audit_retention_policies set retention_days = 1 where event_category = 'workflow'");
    await c.query("insert into audit_retention_policies (event_category, retention_days) values ('test', 3)");

    const result = await resetDatabase(prepared.connection, { tables: SELECTION });
    expect(result.method).toBe('delete');
    // Only the relations that held rows: this month's partition (none of the empty ones), the
    // changed seed table and the tables the inserts above went to.
    expect([...result.emptied].sort()).toEqual(['audit_retention_policies', 'oscillation_patterns', 'retention_operations', thisMonthsPartition()].sort());
    expect([...result.restored].sort()).toEqual(['audit_retention_policies', 'oscillation_patterns']);

    expect(await count(c, 'audit_events')).toBe(0);
    expect(await policies(c)).toEqual(before);
    expect(await count(c, 'oscillation_patterns')).toBe(seedPatterns);
    expect((await c.query("insert into oscillation_patterns (pattern_name, pattern_type, prevention_strategy) values ('t', 't', 't') returning id")).rows[0]!.id).toBe(firstPatternId);
    expect((await c.query('insert into retention_operations default values returning id')).rows[0]!.id).toBe(firstOperationId);

    // The legal hold is in force again: the triggers switched off for the reset are back on.
    await writeEvent(c, 'held-again', true);
    await expect(c.query("delete from audit_events where correlation_id = 'held-again'")).rejects.toThrow(/legal hold/);
    const { rows: triggers } = await c.query<{ tgenabled: string }>("select distinct tgenabled from pg_trigger where not tgisinternal and tgrelid::regclass::text like 'audit_events%'");
    expect(triggers).toEqual([{ tgenabled: 'O' }]);
  });

  test('a database as migrating left it is left alone; a second reset after the first changes nothing', async () => {
    const db = await database('reset_noop');
    await using prepared = await prepareDatabase({ url: db.url, tables: ['audit_events', 'audit_retention_policies'], logger: false });
    expect(await resetDatabase(prepared.url)).toEqual({ method: 'none', emptied: [], restored: [], sequences: 0 });
    const c = await client(prepared.connection);
    await writeEvent(c, 'once');
    expect((await resetDatabase(prepared.url)).method).toBe('delete');
    expect(await resetDatabase(prepared.url)).toEqual({ method: 'none', emptied: [], restored: [], sequences: 0 });
  });

  test('tables outside the selection are not touched, nor their sequences', async () => {
    const db = await database('reset_outside');
    await using prepared = await prepareDatabase({ url: db.url, tables: ['audit_events', 'audit_retention_policies', 'notification_audit'], logger: false });
    const c = await client(prepared.connection);
    await writeEvent(c, 'gone');
    await c.query(
      "insert into notification_audit (remediation_id, notification_id, recipient, channel, message_summary, status, sent_at) values ('rr-1', 'n-1', 'oncall', 'slack', 'kept', 'sent', now())",
    );
    const { rows: sequence } = await c.query("select last_value from notification_audit_id_seq");

    await resetDatabase(prepared.connection, { tables: ['audit_events', 'audit_retention_policies'] });
    expect(await count(c, 'audit_events')).toBe(0);
    expect((await c.query('select message_summary from notification_audit')).rows).toEqual([{ message_summary: 'kept' }]);
    expect((await c.query('select last_value from notification_audit_id_seq')).rows).toEqual(sequence);
  });

  test('a table outside the selection whose rows reference a table to reset stops the reset, naming it', async () => {
    const db = await database('reset_fk');
    await using prepared = await prepareDatabase({ url: db.url, tables: ['oscillation_patterns', 'oscillation_detections'], logger: false });
    const c = await client(prepared.connection);
    await c.query("insert into resource_references (resource_uid, api_version, kind, name, namespace) values ('u1', 'v1', 'Pod', 'p', 'ns')");
    await c.query('update oscillation_patterns set min_occurrences = 9 where id = 1'); // a seed row changed
    await c.query('insert into oscillation_detections (pattern_id, resource_id, confidence, action_count, time_span_minutes) select 1, id, 0.9, 3, 10 from resource_references');

    const failure = await resetDatabase(prepared.connection, { tables: ['oscillation_patterns'] }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DatabaseError);
    expect((failure as Error).message).toContain('tables outside the selection hold rows that reference tables to reset');
    expect((failure as Error).message).toContain('oscillation_detections; add them to tables, or empty them first');
    expect(await count(c, 'oscillation_detections')).toBe(1); // nothing happened

    // With the referencing table in the selection, both go back.
    const result = await resetDatabase(prepared.connection, { tables: ['oscillation_patterns', 'oscillation_detections', 'resource_references'] });
    expect(result.restored).toEqual(['oscillation_patterns']);
    expect(await count(c, 'oscillation_detections')).toBe(0);
    expect(await count(c, 'resource_references')).toBe(0);
    expect((await c.query('select min_occurrences from oscillation_patterns where id = 1')).rows).not.toEqual([{ min_occurrences: 9 }]);
  });

  test('a partition holding many rows is truncated instead; the legal hold does not stop that either', async () => {
    const db = await database('reset_big');
    await using prepared = await prepareDatabase({ url: db.url, tables: ['audit_events', 'audit_retention_policies'], logger: false });
    const c = await client(prepared.connection);
    await c.query(
      `insert into audit_events (event_date, event_type, event_category, event_action, event_outcome, correlation_id, resource_type, resource_id, actor_type, actor_id, event_data, legal_hold)
       select (now() at time zone 'UTC')::date, 'test.bulk', 'test', 'write', 'success', 'bulk-' || i, 'test', 'r' || i, 'test', 'reset.test', jsonb_build_object('padding', repeat('x', 400)), i % 10 = 0
       from generate_series(1, 4000) i`,
    );
    const { rows } = await c.query<{ size: string }>('select pg_relation_size($1::regclass) as size', [thisMonthsPartition()]);
    expect(Number(rows[0]!.size)).toBeGreaterThan(DELETE_MAX_BYTES);

    const result = await resetDatabase(prepared.connection);
    expect(result).toMatchObject({ method: 'truncate', emptied: [thisMonthsPartition()] });
    expect(await count(c, 'audit_events')).toBe(0);
    expect(await policies(c)).toHaveLength(6);
  });

  test('a second capture (another run migrating the same database) keeps the first snapshot: rows tests wrote are not seed rows', async () => {
    const db = await database('reset_recapture');
    const block = { url: db.url, tables: ['audit_events', 'audit_retention_policies'], logger: false as const };
    await (await prepareDatabase(block)).close();
    const c = await client({ ...inject('pgAdmin'), database: db.connection.database });
    await writeEvent(c, 'left-by-an-earlier-run');
    await c.query("insert into audit_retention_policies (event_category, retention_days) values ('left', 3)");
    await (await prepareDatabase(block)).close();
    await resetDatabase(db.url);
    expect(await count(c, 'audit_events')).toBe(0);
    expect((await policies(c)).map((p) => p.event_category)).toEqual(SEED_CATEGORIES);
  });

  test('goose directories: the relations they leave, referencing rows first', async () => {
    const db = await database('reset_goose');
    const migrations = join(import.meta.dirname, '../migrate/fixtures/goose-basic');
    await using prepared = await prepareDatabase({ url: db.url, migrations, tables: ['items', 'tags'], logger: false });
    expect([...prepared.migrations.tables].sort()).toEqual(['items', 'tags']);
    const c = await client(prepared.connection);
    await c.query("with item as (insert into items (name) values ('a') returning id) insert into tags (item_id, label) select id, 'x' from item");
    const result = await resetDatabase(prepared.connection, { tables: prepared.migrations.tables });
    expect(result.emptied).toEqual(['tags', 'items']);
    expect(await count(c, 'items')).toBe(0);
    expect((await c.query<{ id: string }>("insert into items (name) values ('b') returning id")).rows[0]!.id).toBe('1');
  });
});

describe('resetDatabase() with no target: the provided database, on the connection the process keeps', () => {
  test('resets what the environment names; a kept connection that was cut is replaced', async () => {
    const db = await database('reset_env');
    await using prepared = await prepareDatabase({ url: db.url, tables: ['audit_events', 'audit_retention_policies'], logger: false });
    const saved = Object.fromEntries([ENV.url, ENV.databaseUrl, ENV.tables].map((key) => [key, process.env[key]]));
    process.env[ENV.url] = prepared.url;
    process.env[ENV.tables] = 'audit_events';
    cleanups.push(async () => {
      await closeKeptConnection();
      for (const [key, value] of Object.entries(saved)) value === undefined ? delete process.env[key] : (process.env[key] = value);
    });
    const c = await client(prepared.connection);
    await writeEvent(c, 'first');
    await c.query('delete from audit_retention_policies');
    expect(await resetDatabase()).toMatchObject({ method: 'delete', restored: [] }); // audit_events only: the provided selection
    expect(await count(c, 'audit_events')).toBe(0);
    expect(await count(c, 'audit_retention_policies')).toBe(0);

    const kept = await keptConnection(prepared.url);
    expect(await keptConnection(prepared.url)).toBe(kept);
    const { rows } = await kept.query<{ pid: number }>('select pg_backend_pid() as pid');
    await c.query('select pg_terminate_backend($1)', [rows[0]!.pid]); // as a clone dropped WITH (FORCE) would
    await writeEvent(c, 'second');
    await expect.poll(() => kept.lost !== undefined).toBe(true);
    expect((await resetDatabase()).method).toBe('delete');
    expect(await keptConnection(prepared.url)).not.toBe(kept);
    expect(await count(c, 'audit_events')).toBe(0);
  });
});

describe('resetDatabase() on a clone of the isolation template', () => {
  test('the template carries the snapshot, so every clone resets to it', async () => {
    const db = await database('reset_tpl');
    // A partition window of its own: a template no other test builds.
    await using session = await startSession({ url: db.url, tables: ['audit_events', 'audit_retention_policies'], partitions: { monthsBack: 3, monthsAhead: 1 }, logger: false });
    const template = await session.template();
    const prefix = clonePrefix(template.name);
    cleanups.push(() => dropClones(db.connection, prefix));
    const clone = await cloneDatabase(db.connection, template.name, prefix);
    const c = await client(clone);
    await writeEvent(c, 'in-the-clone', true);
    await c.query('delete from audit_retention_policies');
    const result = await resetDatabase(formatConnectionString(clone), { tables: ['audit_events', 'audit_retention_policies'] });
    expect(result.restored).toEqual(['audit_retention_policies']);
    expect(await count(c, 'audit_events')).toBe(0);
    expect((await policies(c)).map((p) => p.event_category)).toEqual(SEED_CATEGORIES);
  });
});

describe('resetDatabase() errors', () => {
  test('applyMigrations (and the CLI apply) only migrate: no snapshot schema of ours is left in the database', async () => {
    const db = await database('reset_apply_only');
    await applyMigrations({ url: db.url, tables: ['audit_events', 'audit_retention_policies'], logger: false });
    const admin = await client({ ...inject('pgAdmin'), database: db.connection.database });
    expect((await admin.query('select 1 from pg_namespace where nspname = $1', [SEED_SCHEMA])).rowCount).toBe(0);
    await expect(resetDatabase(db.url)).rejects.toThrow(/has no seed snapshot/);
  });

  test('a database without a snapshot (migrated by an older version) says how to get one', async () => {
    const db = await database('reset_old');
    await (await prepareDatabase({ url: db.url, tables: ['audit_events'], logger: false })).close();
    const admin = await client({ ...inject('pgAdmin'), database: db.connection.database });
    await admin.query(`drop schema ${SEED_SCHEMA} cascade`);
    const failure = await resetDatabase(db.url).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DatabaseError);
    expect((failure as Error).message).toMatch(new RegExp(`^resetDatabase\\(\\): database "${db.connection.database}" on 127\\.0\\.0\\.1:\\d+ has no seed snapshot \\(schema ${SEED_SCHEMA}`));
    expect((failure as Error).message).toContain('take a new one by migrating with this version of e2e-migrations');
    expect((failure as Error).message).not.toContain(db.connection.password);
  });

  test('tables the snapshot does not cover are named', async () => {
    const db = await database('reset_partial');
    await (await prepareDatabase({ url: db.url, tables: ['audit_events'], logger: false })).close();
    const admin = await client({ ...inject('pgAdmin'), database: db.connection.database });
    await admin.query(`delete from ${SEED_SCHEMA}.relations_v1`);
    await expect(resetDatabase(db.url, { tables: ['audit_events'] })).rejects.toThrow(/the seed snapshot in database "[^"]+" on [^ ]+ does not cover audit_events: they were migrated before a snapshot was taken/);
    await expect(resetDatabase(db.url, { tables: ['no_such_table'] })).rejects.toThrow(/has no relation no_such_table of the selection/);
  });

  test('a transaction left open on a table to reset fails the reset after a bounded wait, saying so', async () => {
    const db = await database('reset_lock');
    await using prepared = await prepareDatabase({ url: db.url, tables: ['audit_events', 'audit_retention_policies'], logger: false });
    const c = await client(prepared.connection);
    const holder = await client(prepared.connection);
    await c.query("update audit_retention_policies set retention_days = 1 where event_category = 'gateway'");
    await holder.query('begin');
    await holder.query('lock table audit_retention_policies in share mode');
    const failure = await resetDatabase(prepared.url).catch((error: unknown) => error);
    await holder.query('rollback');
    expect(failure).toBeInstanceOf(DatabaseError);
    expect((failure as Error).message).toContain(`resetDatabase(): waited ${LOCK_TIMEOUT_MS} ms for a lock on a table to reset in database "${db.connection.database}"`);
    expect((await resetDatabase(prepared.url)).restored).toEqual(['audit_retention_policies']);
  });

  test('no database given and none provided names the setup that is missing', async () => {
    const saved = { [ENV.url]: process.env[ENV.url], [ENV.databaseUrl]: process.env[ENV.databaseUrl] };
    delete process.env[ENV.url];
    delete process.env[ENV.databaseUrl];
    try {
      const failure = await resetDatabase().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ConfigError);
      expect((failure as Error).message).toContain('resetDatabase(): no database given and none provided');
      expect((failure as Error).message).toContain('global setup of Vitest or Jest');
    } finally {
      for (const [key, value] of Object.entries(saved)) if (value !== undefined) process.env[key] = value;
    }
  });

  test("e2e-migrations/jest without our test environment says to add it; its key is the environment's", async () => {
    const jest = createRequire(import.meta.url)('../../src/runners/jest/index.cts') as typeof import('../../src/runners/jest/index.cts');
    expect(() => jest.databaseUrl()).toThrow("e2e-migrations/jest: the test environment is missing: add testEnvironment: 'e2e-migrations/jest/environment' to the Jest config");
    const fake = { databaseUrl: () => 'postgres://from-the-environment' };
    (globalThis as Record<symbol, unknown>)[JEST_DATABASE_KEY] = fake;
    try {
      expect(jest.databaseUrl()).toBe('postgres://from-the-environment');
    } finally {
      delete (globalThis as Record<symbol, unknown>)[JEST_DATABASE_KEY];
    }
  });
});
