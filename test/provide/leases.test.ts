import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { describe, expect, inject, test } from 'vitest';
import { resetDatabase } from '../../src/api/reset-database.ts';
import { DatabaseError } from '../../src/errors/errors.ts';
import { formatConnectionString, type ConnectionInfo } from '../../src/postgres/connection-string.ts';
import { dropClones, templateLockKey } from '../../src/provide/clone.ts';
import { clonePrefix } from '../../src/provide/clone-names.ts';
import { DatabaseLeases, type LeaseSizing } from '../../src/provide/database-leases.ts';
import { listIsolationDatabases } from '../../src/provide/isolation-databases.ts';
import { LEASE_LINE_MAX, leaseDatabase } from '../../src/provide/lease-database.ts';
import { pruneIsolation } from '../../src/provide/prune-isolation.ts';
import { ensureTemplate } from '../../src/provide/template.ts';
import { startSession } from '../../src/session/start-session.ts';
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts';
import { withClient } from '../support/with-client.ts';
import { freePort } from '../../src/util/free-port.ts';
import { NO_CLONE_URL } from '../../src/runners/vitest/process-lease.ts';

// A partition window no other test file uses: the template is this file's own. retention_operations
// is in the selection for its sequence (bigserial), which the recycling must set back.
const BLOCK = { tables: ['audit_events', 'audit_retention_policies', 'retention_operations'], partitions: { monthsBack: 4, monthsAhead: 2 } };
// The non-superuser builds a template of its own: another window again.
const ROLE_BLOCK = { ...BLOCK, partitions: { monthsBack: 4, monthsAhead: 3 } };
const SEED_CATEGORIES = ['analysis', 'apifrontend', 'gateway', 'notification', 'remediation', 'workflow'];
const HOLDER = join(import.meta.dirname, 'fixtures/lease-holder.ts');
const PRELOAD = pathToFileURL(join(import.meta.dirname, '../../src/runners/vitest/worker-preload.ts')).href;

// --- helpers -----------------------------------------------------------------------------------

/** A database with the template of BLOCK built on the suite's server (ensureTemplate also takes the seed snapshot). */
async function withTemplate(prefix: string): Promise<{ db: FreshDatabase; template: string }> {
  const db = await freshDatabase(prefix);
  await using session = await startSession({ url: db.url, ...BLOCK, logger: false });
  return { db, template: (await ensureTemplate(session)).name };
}

interface Run {
  readonly db: FreshDatabase;
  readonly template: string;
  readonly prefix: string;
  readonly leases: DatabaseLeases;
  /** The suite's superuser on `database`. */
  at(database: string): ConnectionInfo;
}

/** Starts leases of this file's template for `body`; then stop() and the run's prefix dropped, whatever happened. */
async function withLeases(name: string, sizing: LeaseSizing, body: (run: Run) => Promise<void>): Promise<void> {
  const { db, template } = await withTemplate(name);
  await using _db = db;
  const prefix = clonePrefix(template);
  const leases = await DatabaseLeases.start(db.connection, template, prefix, sizing);
  try {
    await body({ db, template, prefix, leases, at: (database) => ({ ...db.connection, database }) });
  } finally {
    await leases.stop();
    await dropClones(db.connection, prefix);
  }
  expect(await databases(prefix)).toEqual([]);
}

async function databases(prefix: string): Promise<string[]> {
  return withClient(inject('pgAdmin'), async (c) => (await c.query<{ datname: string }>('select datname from pg_database where starts_with(datname, $1) order by datname', [prefix])).rows.map((r) => r.datname));
}

async function exists(database: string): Promise<boolean> {
  return withClient(inject('pgAdmin'), async (c) => (await c.query('select 1 from pg_database where datname = $1', [database])).rowCount === 1);
}

/** Polls `check` until it returns true, failing after `timeoutMs` with `what`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** `promise`, or a failure naming `what` after `timeoutMs` (instead of the test's timeout). */
async function within<T>(promise: Promise<T>, what: string, timeoutMs = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${timeoutMs} ms for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** One audit event dated today (UTC), so it lands in this month's partition. */
async function writeEvent(c: pg.ClientBase, correlation: string, legalHold = false): Promise<void> {
  await c.query(
    `insert into audit_events (event_date, event_type, event_category, event_action, event_outcome, correlation_id, resource_type, resource_id, actor_type, actor_id, event_data, legal_hold)
     values ((now() at time zone 'UTC')::date, 'test.write', 'test', 'write', 'success', $1, 'test', 'r1', 'test', 'leases.test', '{}', $2)`,
    [correlation, legalHold],
  );
}

/** What a file would see of the rows migrating leaves: rows, seed rows, the sequence, the legal hold's triggers, the schema. */
async function state(connection: ConnectionInfo) {
  return withClient(connection, async (c) => ({
    events: (await c.query<{ n: number }>('select count(*)::int as n from audit_events')).rows[0]!.n,
    operations: (await c.query<{ n: number }>('select count(*)::int as n from retention_operations')).rows[0]!.n,
    policies: (await c.query('select event_category, retention_days, legal_hold_override from audit_retention_policies order by event_category')).rows,
    sequence: (await c.query('select last_value, is_called from retention_operations_id_seq')).rows[0],
    triggers: (await c.query("select distinct tgenabled from pg_trigger where not tgisinternal and tgrelid::regclass::text like 'audit_events%'")).rows,
    columns: (await c.query<{ n: number }>("select count(*)::int as n from information_schema.columns where table_name = 'audit_events'")).rows[0]!.n,
    scratch: (await c.query("select to_regclass('scratch') is not null as found")).rows[0].found as boolean,
  }));
}

/** Writes what a test file typically writes: events (one under legal hold), a seed row deleted and one changed, the sequence advanced. */
async function dirty(connection: ConnectionInfo, tag: string): Promise<void> {
  await withClient(connection, async (c) => {
    await writeEvent(c, `${tag}-plain`);
    await writeEvent(c, `${tag}-held`, true);
    await expect(c.query('delete from audit_events where correlation_id = $1', [`${tag}-held`])).rejects.toThrow(/legal hold/);
    await c.query("delete from audit_retention_policies where event_category = 'gateway'");
    await c.query("update audit_retention_policies set retention_days = 1 where event_category = 'workflow'");
    await c.query("insert into audit_retention_policies (event_category, retention_days) values ('test', 3)");
    await c.query('insert into retention_operations default values');
    await c.query('insert into retention_operations default values');
  });
}

/** A clean database of this template, as migrating left it. */
function expectClean(seen: Awaited<ReturnType<typeof state>>): void {
  expect(seen).toMatchObject({ events: 0, operations: 0, scratch: false, triggers: [{ tgenabled: 'O' }], sequence: { is_called: false } });
  expect(seen.policies.map((p) => p.event_category)).toEqual(SEED_CATEGORIES);
  expect(seen.policies.every((p) => p.retention_days === 2555)).toBe(true);
}

/** Connects to 127.0.0.1:`port`, sends `payload`, resolves with what came back once the other side closed. */
function rawExchange(port: number, payload: string, host = '127.0.0.1'): Promise<string> {
  return within(
    new Promise<string>((resolve) => {
      const socket = connect({ host, port });
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => void (received += chunk));
      socket.on('error', () => {}); // a reset is a close too; 'close' follows
      socket.on('connect', () => socket.write(payload));
      socket.on('close', () => resolve(received));
    }),
    `the leases to close a connection that sent ${JSON.stringify(payload.slice(0, 60))}`,
    10_000,
  );
}

/** Whether a TCP connection to `host`:`port` is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return within(
    new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    }),
    `a connection to ${host}:${port} to be accepted or refused`,
    10_000,
  );
}

// --- the tests ---------------------------------------------------------------------------------

describe('DatabaseLeases: recycling', () => {
  test('a released database is reset (rows, seed rows, sequence, legal hold) and leased again: one copy serves both files', async () => {
    await withLeases('leases_recycle', { ahead: 1 }, async ({ leases, at }) => {
      const first = await leaseDatabase(leases.address, 'first.test.ts');
      const clean = await state(at(first.database));
      expectClean(clean);
      await dirty(at(first.database), 'first');
      const written = await state(at(first.database));
      expect(written).toMatchObject({ events: 2, operations: 2, sequence: { last_value: '2', is_called: true } });
      expect(written.policies.map((p) => p.event_category)).toEqual(['analysis', 'apifrontend', 'notification', 'remediation', 'test', 'workflow']);
      await first.release();
      await first.release(); // idempotent

      const second = await leaseDatabase(leases.address, 'second.test.ts');
      expect(second.database).toBe(first.database);
      expect(await state(at(second.database))).toEqual(clean);
      // The legal hold is in force again: the triggers the reset switched off are back on.
      await withClient(at(second.database), async (c) => {
        await writeEvent(c, 'second-held', true);
        await expect(c.query("delete from audit_events where correlation_id = 'second-held'")).rejects.toThrow(/legal hold/);
      });
      await second.release();

      expect(await leases.stop()).toEqual({ made: 1, leased: 2, recycled: 1, fromSpares: 0, kept: 0, discarded: 0, changes: [] });
    });
  });

  test('a file that changed the schema gets its database dropped; the next file gets a fresh copy', async () => {
    await withLeases('leases_ddl', { ahead: 1 }, async ({ leases, at }) => {
      const first = await leaseDatabase(leases.address, 'ddl.test.ts');
      const clean = await state(at(first.database));
      await withClient(at(first.database), async (c) => {
        await c.query('create table scratch (x int)');
        await c.query('alter table audit_events add column x int');
        await writeEvent(c, 'ddl');
      });
      await first.release();

      const second = await leaseDatabase(leases.address, 'next.test.ts');
      expect(second.database).not.toBe(first.database);
      expect(await state(at(second.database))).toEqual(clean);
      await until(`the changed database ${first.database} to be dropped`, async () => !(await exists(first.database)));
      await second.release();

      expect(await leases.stop()).toEqual({ made: 2, leased: 2, recycled: 0, fromSpares: 0, kept: 0, discarded: 1, changes: ['ALTER TABLE', 'CREATE TABLE'] });
    });
  });

  test('DDL rolled back, or failed, is no change: the database is reused (also after a reset that had to switch triggers off)', async () => {
    await withLeases('leases_rollback', { ahead: 1 }, async ({ leases, at }) => {
      const first = await leaseDatabase(leases.address, 'rows.test.ts');
      const clean = await state(at(first.database));
      await dirty(at(first.database), 'rows'); // the reset deletes under legal hold: ALTER TABLE … DISABLE TRIGGER of its own
      await first.release();

      const second = await leaseDatabase(leases.address, 'rolled-back.test.ts');
      expect(second.database).toBe(first.database);
      await withClient(at(second.database), async (c) => {
        await c.query('begin');
        await c.query('create table scratch (x int)');
        await c.query('alter table audit_events add column y int');
        await c.query('rollback');
        await expect(c.query('create table audit_events (x int)')).rejects.toThrow(/already exists/);
      });
      await second.release();

      const third = await leaseDatabase(leases.address, 'third.test.ts');
      expect(third.database).toBe(first.database);
      expect(await state(at(third.database))).toEqual(clean);
      await third.release();

      expect(await leases.stop()).toEqual({ made: 1, leased: 3, recycled: 2, fromSpares: 0, kept: 0, discarded: 0, changes: [] });
    });
  });

  test('changes event triggers do not see (database settings, its connection limit, large objects), and DDL under session_replication_role = replica, drop the database too', async () => {
    await withLeases('leases_unseen', { ahead: 1 }, async ({ leases, at }) => {
      const seen: string[] = [];
      const changes: ((c: pg.Client, database: string) => Promise<unknown>)[] = [
        (c, database) => c.query(`alter database ${c.escapeIdentifier(database)} set work_mem = '8MB'`),
        (c, database) => c.query(`alter database ${c.escapeIdentifier(database)} connection limit 3`),
        (c) => c.query('select lo_create(0)'),
        async (c) => {
          await c.query('set session_replication_role = replica');
          await c.query('create index scratch_idx on audit_retention_policies (retention_days)');
        },
      ];
      for (const [i, change] of changes.entries()) {
        const lease = await leaseDatabase(leases.address, `change-${i}.test.ts`);
        expect(seen).not.toContain(lease.database);
        seen.push(lease.database);
        await withClient(at(lease.database), (c) => change(c, lease.database));
        await lease.release();
      }
      const last = await leaseDatabase(leases.address, 'last.test.ts');
      expect(seen).not.toContain(last.database);
      expectClean(await state(at(last.database)));
      await last.release();
      for (const database of seen) await until(`the changed database ${database} to be dropped`, async () => !(await exists(database)));
      expect(await leases.stop()).toEqual({ made: 5, leased: 5, recycled: 0, fromSpares: 0, kept: 0, discarded: 4, changes: ['ALTER DATABASE', 'CREATE INDEX', 'large objects'] });
    });
  });

  // KNOWN PRODUCT BUG (fails as of writing): resetDatabase() in the file runs the seed reset's
  // `ALTER TABLE … DISABLE/ENABLE TRIGGER` (DELETE path, audit_events has DELETE triggers) outside
  // recycle_v1, so e2e_migrations.recycling is not 'on' and the watch notes 'ALTER TABLE': the
  // database is dropped instead of recycled. See /tmp/notes/leases-tests.md.
  test('a file that calls resetDatabase() between its tests (rows under DELETE triggers) has not changed the schema: its database is recycled', async () => {
    await withLeases('leases_file_reset', { ahead: 1 }, async ({ leases, at }) => {
      const first = await leaseDatabase(leases.address, 'resets-between-tests.test.ts');
      const clean = await state(at(first.database));
      // As `beforeEach(() => resetDatabase())` in a test file does, on its leased database.
      await dirty(at(first.database), 'test-1');
      expect(await resetDatabase(at(first.database), { tables: BLOCK.tables })).toMatchObject({ method: 'delete' });
      await dirty(at(first.database), 'test-2');
      await first.release();

      const second = await leaseDatabase(leases.address, 'next.test.ts');
      expect(await state(at(second.database))).toEqual(clean);
      await second.release();
      const summary = await leases.stop();
      expect(summary.changes).toEqual([]);
      expect(second.database).toBe(first.database);
      expect(summary).toEqual({ made: 1, leased: 2, recycled: 1, fromSpares: 0, kept: 0, discarded: 0, changes: [] });
    });
  });

  test('connections the file left open (one mid-transaction) keep the database from being put back: not ended, not dropped until teardown', async () => {
    await withLeases('leases_leftover', { ahead: 1 }, async ({ db, prefix, leases, at }) => {
      const first = await leaseDatabase(leases.address, 'leaky.test.ts');
      await dirty(at(first.database), 'leaky');

      const left: { client: pg.Client; errors: Error[]; ended: Promise<void> }[] = [];
      try {
        for (const inTransaction of [true, false]) {
          const client = new pg.Client({ ...at(first.database) });
          const errors: Error[] = [];
          client.on('error', (error) => errors.push(error));
          const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
          await client.connect();
          if (inTransaction) {
            await client.query('begin');
            await writeEvent(client, 'uncommitted');
            await client.query("update audit_retention_policies set retention_days = 7 where event_category = 'analysis'");
          }
          left.push({ client, errors, ended });
        }
        // A connection the file closed right before releasing is no leftover (the recycling waits for it to go).
        await withClient(at(first.database), (c) => c.query('select 1'));
        await first.release();

        const second = await leaseDatabase(leases.address, 'next.test.ts');
        expect(second.database).not.toBe(first.database);
        expectClean(await state(at(second.database)));
        await second.release();
        expect(await leases.stop()).toEqual({ made: 2, leased: 2, recycled: 0, fromSpares: 0, kept: 0, discarded: 1, changes: ['connections left open'] });

        // Not ended under the code that opened them (a Jest worker runs on), and not dropped under them either.
        for (const { client, errors } of left) {
          expect((await client.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
          expect(errors).toEqual([]);
        }
        expect(await exists(first.database)).toBe(true);
        // Teardown drops the run's prefix (WITH (FORCE)): then they end.
        expect(await dropClones(db.connection, prefix)).toContain(first.database);
        for (const { ended } of left) await within(ended, 'a connection left open to end with the teardown');
        expect(await exists(first.database)).toBe(false);
      } finally {
        for (const { client } of left) await client.end().catch(() => undefined);
      }
    });
  });

  test('a worker killed while holding a lease gives it back: the next file gets that database, reset', async () => {
    await withLeases('leases_killed', { ahead: 1 }, async ({ leases, at }) => {
      const child = spawn(process.execPath, [HOLDER], { env: { ...process.env, LEASES: leases.address }, stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
      try {
        let out = '';
        let err = '';
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => void (err += chunk));
        const held = await within(
          new Promise<string>((resolve, reject) => {
            child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
              out += chunk;
              const match = /^LEASED (\S+)$/m.exec(out);
              if (match) resolve(match[1]!);
            });
            void exited.then((how) => reject(new Error(`the lease holder exited (${how}) before leasing: ${err}`)));
          }),
          'the lease holder to lease',
        );
        const clean = await state(at(held));
        await dirty(at(held), 'killed');
        child.kill('SIGKILL');
        expect(await within(exited, 'the lease holder to die')).toBe('SIGKILL');

        // Given back on the kill: wait (from another database: a connection to it would be one left
        // open) until the recycling is under way, so that the next request is not served before the
        // run noticed the kill (a request before that would be a file more, and make a copy).
        await until(`the recycling of ${held} after its holder was killed`, () =>
          withClient(inject('pgAdmin'), async (c) => {
            const { rowCount } = await c.query("select 1 from pg_stat_activity where datname = $1 and application_name = 'e2e-migrations leases' and query like '%recycle_v1($1::bigint%'", [held]);
            return rowCount! > 0;
          }),
        );
        const next = await leaseDatabase(leases.address, 'after-the-kill.test.ts');
        expect(next.database).toBe(held);
        expect(await state(at(next.database))).toEqual(clean);
        await next.release();
        expect(await leases.stop()).toEqual({ made: 1, leased: 2, recycled: 1, fromSpares: 0, kept: 0, discarded: 0, changes: [] });
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });
  });
});

describe('DatabaseLeases: who may lease', () => {
  test('a connection with a wrong token, or that speaks no protocol of ours, is closed with nothing granted; the run serves on', async () => {
    await withLeases('leases_token', { ahead: 1 }, async ({ leases, at }) => {
      const token = leases.address.slice(0, 32);
      const wrong = token.replace(/^./, (c) => (c === '0' ? '1' : '0'));
      expect(wrong).not.toBe(token);
      expect(await rawExchange(leases.port, `${JSON.stringify({ token: wrong, file: 'intruder' })}\n`)).toBe('');
      expect(await rawExchange(leases.port, `${JSON.stringify({ token: 'short', file: 'intruder' })}\n`)).toBe('');
      expect(await rawExchange(leases.port, `${JSON.stringify({ token })}\n`)).toBe(''); // no file: not a request
      expect(await rawExchange(leases.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')).toBe('');
      expect(await rawExchange(leases.port, 'x'.repeat(LEASE_LINE_MAX + 1024))).toBe(''); // no line end, ever

      const address = leases.address.replace(token, wrong);
      const refused = await leaseDatabase(address, 'wrong-token.test.ts').catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(DatabaseError);
      expect((refused as Error).message).toBe(
        `the run's database leases on 127.0.0.1:${leases.port} closed before granting a database to wrong-token.test.ts (the run is ending?)`,
      );

      const served = await leaseDatabase(leases.address, 'rightful.test.ts');
      expectClean(await state(at(served.database)));
      await served.release();
      // Nothing was granted to the intruders, nor copied for them: the one copy made ahead served the rightful file.
      expect(await leases.stop()).toEqual({ made: 1, leased: 1, recycled: 0, fromSpares: 0, kept: 0, discarded: 0, changes: [] });
    });
  });

  test('an address whose leases have stopped: leaseDatabase rejects with a DatabaseError naming 127.0.0.1:<port>, nothing unhandled', async () => {
    await withLeases('leases_gone', { ahead: 1 }, async ({ leases }) => {
      const unhandled: unknown[] = [];
      const onUnhandled = (error: unknown) => void unhandled.push(error);
      process.on('unhandledRejection', onUnhandled);
      process.on('uncaughtException', onUnhandled);
      try {
        const { address, port } = leases;
        expect(await leases.stop()).toMatchObject({ leased: 0, discarded: 0 });
        const failure = await leaseDatabase(address, 'late.test.ts').catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(DatabaseError);
        expect((failure as DatabaseError).message).toContain(`127.0.0.1:${port}`);
        expect((failure as DatabaseError).message).toMatch(/^could not reach the run's database leases on 127\.0\.0\.1:\d+ \(.*ECONNREFUSED.*\)/);
        expect((failure as DatabaseError).details).toMatchObject({ host: '127.0.0.1', port });
        await new Promise((resolve) => setTimeout(resolve, 50)); // a late 'error' or 'close' would surface here
        expect(unhandled).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
        process.off('uncaughtException', onUnhandled);
      }
    });
  });

  test('the listener is on 127.0.0.1 only', async () => {
    await withLeases('leases_loopback', { ahead: 1 }, async ({ leases }) => {
      expect(leases.address).toMatch(/^[0-9a-f]{32}@127\.0\.0\.1:\d{1,5}$/);
      expect(leases.address.endsWith(`@127.0.0.1:${leases.port}`)).toBe(true);
      expect(leases.port).toBeGreaterThan(0);
      expect(await accepts('127.0.0.1', leases.port)).toBe(true);
      // Any other address of this machine is refused (::1 always tried; the rest where there are any).
      const others = Object.values(networkInterfaces())
        .flat()
        .filter((i) => i !== undefined && !(i.family === 'IPv4' && i.address === '127.0.0.1'))
        .map((i) => i!.address.split('%')[0]!);
      for (const host of new Set(['::1', ...others])) expect(await accepts(host, leases.port), host).toBe(false);
    });
  });
});

describe('DatabaseLeases: single-use databases and the end of the run', () => {
  test('a user who is no superuser: each file gets a fresh copy, dropped when the file ends; the summary says why', async () => {
    const admin = inject('pgAdmin');
    const db = await freshDatabase('leases_role');
    const role = `leases_role_${randomBytes(4).toString('hex')}`;
    const password = `pw-${randomBytes(6).toString('hex')}`;
    await withClient(admin, (c) => c.query(`CREATE ROLE ${c.escapeIdentifier(role)} LOGIN CREATEDB NOSUPERUSER PASSWORD '${password}'`));
    const as: ConnectionInfo = { ...db.connection, user: role, password };
    let template: string | undefined;
    let prefix: string | undefined;
    let leases: DatabaseLeases | undefined;
    try {
      {
        await using session = await startSession({ url: formatConnectionString(as), ...ROLE_BLOCK, logger: false });
        template = (await ensureTemplate(session)).name;
      }
      const owner = (name: string) =>
        withClient(admin, async (c) => (await c.query<{ owner: string }>('select pg_get_userbyid(datdba) as owner from pg_database where datname = $1', [name])).rows[0]?.owner);
      expect(await owner(template)).toBe(role);
      prefix = clonePrefix(template);
      leases = await DatabaseLeases.start(as, template, prefix, { ahead: 1, total: 2 });

      const first = await leaseDatabase(leases.address, 'one.test.ts');
      expect(await owner(first.database)).toBe(role);
      expectClean(await state({ ...as, database: first.database }));
      await dirty({ ...as, database: first.database }, 'one');
      await first.release();
      await until(`the single-use database ${first.database} to be dropped`, async () => !(await exists(first.database)));

      const second = await leaseDatabase(leases.address, 'two.test.ts');
      expect(second.database).not.toBe(first.database);
      expectClean(await state({ ...as, database: second.database }));
      await second.release();
      await until(`the single-use database ${second.database} to be dropped`, async () => !(await exists(second.database)));

      const summary = await leases.stop();
      expect(summary).toMatchObject({ made: 2, leased: 2, recycled: 0, fromSpares: 0, kept: 0, discarded: 2, changes: [] });
      expect(summary.singleUse).toContain(`user "${role}" is no superuser`);
      expect(await databases(prefix)).toEqual([]);
    } finally {
      await leases?.stop();
      await withClient(admin, async (c) => {
        if (prefix) await dropClones(admin, prefix);
        if (template) {
          await c.query(`ALTER DATABASE ${c.escapeIdentifier(template)} IS_TEMPLATE false`).catch(() => undefined);
          await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(template)} WITH (FORCE)`);
        }
        await db.drop();
        expect((await c.query('select datname from pg_database where pg_get_userbyid(datdba) = $1', [role])).rows).toEqual([]);
        await c.query(`DROP ROLE ${c.escapeIdentifier(role)}`);
        expect((await c.query('select 1 from pg_roles where rolname = $1', [role])).rowCount).toBe(0);
      });
    }
  });

  test('stop() while a file waits for a copy: the file is told the run is ending, stop() resolves, nothing listens after', async () => {
    await withLeases('leases_stop', { ahead: 1 }, async ({ db, template, prefix, leases }) => {
      const first = await leaseDatabase(leases.address, 'running.test.ts'); // the copy made ahead
      // The template's lock held exclusively (as a setup rebuilding it would): the copy for the next file cannot start.
      const holder = new pg.Client({ ...db.connection });
      await holder.connect();
      let locked = false;
      try {
        await holder.query('select pg_advisory_lock(hashtextextended($1, 0))', [templateLockKey(template)]);
        locked = true;
        const waiting = leaseDatabase(leases.address, 'waiting.test.ts');
        const outcome = waiting.then(
          () => 'granted',
          (error: Error) => error,
        );
        // The request arrived: nothing is free, so the leases copy for it, and wait for the lock.
        await until('the copy for the waiting file to wait for the template lock', async () => {
          const { rows } = await holder.query<{ n: number }>(
            "select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())",
          );
          return rows[0]!.n > 0;
        });
        const stopping = leases.stop();
        const failure = await within(outcome, 'the waiting file to be told');
        expect(failure).toBeInstanceOf(DatabaseError);
        expect((failure as Error).message).toMatch(/the run is ending/);

        await holder.query('select pg_advisory_unlock(hashtextextended($1, 0))', [templateLockKey(template)]);
        locked = false;
        const summary = await within(stopping, 'stop() to resolve');
        // The copy under way when the run stopped is finished, and left to the prefix's drop with the running file's.
        expect(summary).toEqual({ made: 2, leased: 1, recycled: 0, fromSpares: 0, kept: 0, discarded: 0, changes: [] });
        expect(await accepts('127.0.0.1', leases.port)).toBe(false);
        const left = await databases(prefix);
        expect(left).toHaveLength(2);
        expect(left).toContain(first.database);
        await first.release(); // its connection was closed by stop(): nothing to wait for
      } finally {
        if (locked) await holder.query('select pg_advisory_unlock_all()').catch(() => undefined);
        await holder.end();
      }
    });
  });
});

describe('DatabaseLeases: spares for the next run', () => {
  async function spares(template: string): Promise<string[]> {
    return (await databases(`${template}_spare_`)).filter((name) => /_spare_[0-9a-f]{8}$/.test(name));
  }
  async function dropSpares(template: string): Promise<void> {
    await withClient(inject('pgAdmin'), async (c) => {
      for (const name of await spares(template)) await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`);
    });
  }

  test('a run on a server that outlives it keeps reset clones as spares (no more than it prepares ahead); the next run takes them by a rename, clean', async () => {
    const { db, template } = await withTemplate('leases_spares');
    await using _db = db;
    try {
      const first = clonePrefix(template);
      const run1 = await DatabaseLeases.start(db.connection, template, first, { ahead: 2 });
      try {
        const [a, b] = await Promise.all([leaseDatabase(run1.address, 'a.test.ts'), leaseDatabase(run1.address, 'b.test.ts')]);
        await dirty({ ...db.connection, database: a.database }, 'a');
        await dirty({ ...db.connection, database: b.database }, 'b');
        await Promise.all([a.release(), b.release()]);
        // Both back and reset: a third file takes one of them without a copy.
        const c = await leaseDatabase(run1.address, 'c.test.ts');
        expect([a.database, b.database]).toContain(c.database);
        await c.release();
        // Two files at once again: each waits for a reset under way rather than a new copy.
        const both = await Promise.all([leaseDatabase(run1.address, 'd.test.ts'), leaseDatabase(run1.address, 'e.test.ts')]);
        expect(both.map((lease) => lease.database).sort()).toEqual([a.database, b.database].sort());
        await Promise.all(both.map((lease) => lease.release()));
      } finally {
        expect(await run1.stop({ keepSpares: true })).toMatchObject({ made: 2, fromSpares: 0, kept: 2, discarded: 0 });
        await dropClones(db.connection, first);
      }
      const kept = await spares(template);
      expect(kept).toHaveLength(2);
      expect(await databases(first)).toEqual([]); // renamed out of the run's prefix, the rest dropped

      const second = clonePrefix(template);
      const run2 = await DatabaseLeases.start(db.connection, template, second, { ahead: 1 });
      try {
        const lease = await leaseDatabase(run2.address, 'next-run.test.ts');
        expect(lease.database.startsWith(second)).toBe(true);
        expectClean(await state({ ...db.connection, database: lease.database }));
        await lease.release();
      } finally {
        const summary = await run2.stop({ keepSpares: true });
        expect(summary).toMatchObject({ made: 1, fromSpares: 1, kept: 0, discarded: 0, changes: [] }); // the watch, there already, is no change
        await dropClones(db.connection, second);
      }
      expect(await spares(template)).toHaveLength(1); // the one it did not take: a run keeps spares up to its own ahead, counting those there
    } finally {
      await dropSpares(template);
    }
  });

  test('a clone given back just after stop() began (a worker still exiting) is reset and kept as a spare; one held past the grace is dropped with the run', async () => {
    const { db, template } = await withTemplate('leases_grace');
    await using _db = db;
    try {
      const prefix = clonePrefix(template);
      const run = await DatabaseLeases.start(db.connection, template, prefix, { ahead: 1 });
      try {
        const lease = await leaseDatabase(run.address, 'last.test.ts');
        await dirty({ ...db.connection, database: lease.database }, 'last');
        const stopping = run.stop({ keepSpares: true });
        await new Promise((resolve) => setTimeout(resolve, 100));
        await lease.release();
        expect(await stopping).toMatchObject({ made: 1, leased: 1, kept: 1, discarded: 0 });
      } finally {
        await dropClones(db.connection, prefix);
      }
      const [spare] = await spares(template);
      expect(spare).toBeDefined();
      expectClean(await state({ ...db.connection, database: spare! }));
      await dropSpares(template);

      const again = clonePrefix(template);
      const held = await DatabaseLeases.start(db.connection, template, again, { ahead: 1 });
      const lease = await leaseDatabase(held.address, 'hung.test.ts');
      try {
        // Never given back: stop() waits its grace, then ends the lease and keeps nothing.
        expect(await held.stop({ keepSpares: true })).toMatchObject({ made: 1, leased: 1, kept: 0 });
      } finally {
        await lease.release();
        await dropClones(db.connection, again);
      }
      expect(await spares(template)).toEqual([]);
    } finally {
      await dropSpares(template);
    }
  });

  test('no spare is kept when another run ensured the template meanwhile (it may have migrated it again), nor without keepSpares', async () => {
    const { db, template } = await withTemplate('leases_nospare');
    await using _db = db;
    try {
      const prefix = clonePrefix(template);
      const run = await DatabaseLeases.start(db.connection, template, prefix, { ahead: 1 });
      try {
        const lease = await leaseDatabase(run.address, 'a.test.ts');
        await lease.release();
        // Another run's setup, on the same server: it ensures (and here re-records) the template.
        await withTemplate('leases_nospare_other').then(({ db: other }) => other.drop());
      } finally {
        expect(await run.stop({ keepSpares: true })).toMatchObject({ kept: 0 });
        await dropClones(db.connection, prefix);
      }
      expect(await spares(template)).toEqual([]);

      const plain = clonePrefix(template);
      const again = await DatabaseLeases.start(db.connection, template, plain, { ahead: 1 });
      await (await leaseDatabase(again.address, 'b.test.ts')).release();
      expect(await again.stop()).toMatchObject({ kept: 0 });
      await dropClones(db.connection, plain);
      expect(await spares(template)).toEqual([]);
    } finally {
      await dropSpares(template);
    }
  });

  test('status lists spares with their template; housekeeping drops a spare whose template is gone', async () => {
    const { db, template } = await withTemplate('leases_prune');
    await using _db = db;
    const orphan = `e2e_tpl_${randomBytes(8).toString('hex')}_spare_${randomBytes(4).toString('hex')}`;
    const prefix = clonePrefix(template);
    const run = await DatabaseLeases.start(db.connection, template, prefix, { ahead: 1 });
    await (await leaseDatabase(run.address, 'a.test.ts')).release();
    await run.stop({ keepSpares: true });
    await dropClones(db.connection, prefix);
    try {
      await withClient(inject('pgAdmin'), (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(orphan)}`));
      await withClient(db.connection, async (c) => {
        const listed = await listIsolationDatabases(c, { current: template });
        const [kept] = await spares(template);
        expect(listed.find((d) => d.name === kept)).toMatchObject({ kind: 'spare', template, state: 'current' });
        expect(listed.find((d) => d.name === orphan)).toMatchObject({ kind: 'spare', state: 'stale', why: 'its template is gone' });
        const pruned = await pruneIsolation(c, { current: template });
        expect(pruned.clones).toEqual([orphan]);
      });
      expect(await exists(orphan)).toBe(false);
      expect(await spares(template)).toHaveLength(1);
    } finally {
      await withClient(inject('pgAdmin'), (c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(orphan)}`));
      await dropSpares(template);
    }
  });
});

describe('a Vitest worker process that leases as it starts (worker-preload)', () => {
  /** This process's environment without any database of ours: what a worker gets, plus `env`. */
  function workerEnv(env: Record<string, string>): NodeJS.ProcessEnv {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'DATABASE_URL' && !key.startsWith('E2E_MIGRATIONS_')));
    return { ...clean, ...env };
  }

  /** Node with the preload, running `script` (CommonJS) after it; stdin stays open until the test ends it. */
  function worker(env: NodeJS.ProcessEnv, script: string) {
    const child = spawn(process.execPath, ['--import', PRELOAD, '-e', script], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => void (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => void (err += chunk));
    const exited = within(
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.once('close', (code) => resolve({ code, out, err }))),
      'the worker to exit',
    );
    const printed = (pattern: RegExp) =>
      within(
        new Promise<RegExpExecArray>((resolve, reject) => {
          const look = () => {
            const match = pattern.exec(out);
            if (match) resolve(match);
          };
          child.stdout.on('data', look);
          look();
          void exited.then(({ code }) => reject(new Error(`the worker exited (${code}) before printing ${pattern}: ${err}`)));
        }),
        `the worker to print ${pattern}`,
      );
    return { child, exited, printed };
  }

  test('DATABASE_URL names its own clone before any of its code runs, credentials and parameters kept; its exit gives the clone back, reset', async () => {
    await withLeases('leases_preload', { ahead: 1 }, async ({ db, leases, at, prefix }) => {
      const base = new URL(db.url);
      base.searchParams.set('application_name', 'preload test');
      const script = "console.log('ENV ' + JSON.stringify({ url: process.env.DATABASE_URL, also: process.env.E2E_MIGRATIONS_URL, database: process.env.E2E_MIGRATIONS_DATABASE })); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));";
      const { child, exited, printed } = worker(workerEnv({ E2E_MIGRATIONS_LEASES: leases.address, E2E_MIGRATIONS_LEASE_URL: base.toString() }), script);
      const seen = JSON.parse((await printed(/^ENV (.*)$/m))[1]!) as { url: string; also: string; database: string };
      expect(seen.database.startsWith(prefix)).toBe(true);
      expect(seen.also).toBe(seen.url);
      const url = new URL(seen.url);
      expect({ user: url.username, password: url.password, host: url.host, database: decodeURIComponent(url.pathname.slice(1)), params: url.search }).toEqual({
        user: base.username,
        password: base.password,
        host: base.host,
        database: seen.database,
        params: base.search,
      });
      await dirty(at(seen.database), 'preloaded');

      child.stdin.end(); // the worker is done: it exits, and the connection that is its lease closes
      expect((await exited).code).toBe(0);
      const next = await leaseDatabase(leases.address, 'next.test.ts');
      expect(next.database).toBe(seen.database);
      expectClean(await state(at(next.database)));
      await next.release();
      expect(await leases.stop()).toMatchObject({ made: 1, leased: 2, recycled: 1, discarded: 0 });
    });
  });

  test('without a clone to be had the worker says why on one line and runs on, its DATABASE_URL naming no database that could be reached; outside an isolating run the preload does nothing', async () => {
    const port = await freePort(); // nobody listens there
    const token = randomBytes(16).toString('hex');
    const failed = await worker(
      workerEnv({ E2E_MIGRATIONS_LEASES: `${token}@127.0.0.1:${port}`, E2E_MIGRATIONS_LEASE_URL: 'postgres://u:secret-pw@127.0.0.1:1/db' }),
      "console.log('RAN ' + process.env.DATABASE_URL + ' ' + process.env.E2E_MIGRATIONS_URL)",
    ).exited;
    expect(failed.code).toBe(0); // a test file that uses no database passes; one that does fails as a test fails
    expect(failed.out).toBe(`RAN ${NO_CLONE_URL} ${NO_CLONE_URL}\n`);
    expect(new URL(NO_CLONE_URL).hostname.endsWith('.invalid')).toBe(true); // never resolves (RFC 6761)
    expect(failed.err).toMatch(new RegExp(`^e2e-migrations: no database for this test file: could not reach the run's database leases on 127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\): the run that handed out this address has ended[^\\n]*\\n$`));
    expect(failed.err).not.toMatch(/\n\s+at |Unhandled|secret-pw/);
    expect(failed.err).not.toContain(token);

    const outside = await worker(workerEnv({}), "console.log('RAN ' + String(process.env.DATABASE_URL))").exited;
    expect(outside).toEqual({ code: 0, out: 'RAN undefined\n', err: '' });
  });
});
