import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { applyMigrations, ConfigError, ensureMonthlyPartitions, MigrationError, verifyMigrations, VerificationError } from '../../src/index.ts';
import { monthsOfWindow, partitionName } from '../../src/migrate/monthly-partitions.ts';
import { freshDatabase } from '../support/fresh-database.ts';

/*
 * audit_events declares its monthly partitions (`meta.monthlyPartitions`); the engine keeps
 * them on every apply. Every clock here is explicit: partitions follow the `now` of the run.
 */

const JUNE_2025 = new Date('2025-06-15T12:00:00Z');
const DEFAULT_WINDOW = { monthsBack: 1, monthsAhead: 3 } as const;

/** Applies what audit_events needs through the public API, at `now`. */
function applyAuditEvents(url: string, now: Date, partitions?: { monthsBack: number; monthsAhead: number }) {
  return applyMigrations({ url, tables: ['audit_events'], logger: false, now, ...(partitions ? { partitions } : {}) });
}

/** A connection of the test's own, closed when the body is done. */
async function withClient<T>(url: string, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

/** audit_events' partition name → its bound, as Postgres prints it; on the given connection, or a new one to `url`. */
async function partitionsOf(on: string | pg.Client): Promise<Record<string, string>> {
  const read = async (client: pg.Client) => {
    const { rows } = await client.query<{ name: string; bound: string }>(
      `select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
       from pg_inherits i join pg_class c on c.oid = i.inhrelid
       where i.inhparent = 'audit_events'::regclass
       order by c.relname`,
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.bound]));
  };
  return typeof on === 'string' ? withClient(on, read) : read(on);
}

describe('partitionName and monthsOfWindow', () => {
  test('name partitions <table>_YYYY_MM', () => {
    expect(partitionName('audit_events', 2025, 3)).toBe('audit_events_2025_03');
    expect(partitionName('audit_events', 2025, 12)).toBe('audit_events_2025_12');
  });

  test('list the months of the window in UTC, oldest first', () => {
    // 23:30 at UTC-5 on June 30 is already July 1 in UTC.
    const months = monthsOfWindow(new Date('2025-06-30T23:30:00-05:00'), 1, 1);
    expect(months).toEqual([
      { year: 2025, month: 6, from: '2025-06-01', to: '2025-07-01' },
      { year: 2025, month: 7, from: '2025-07-01', to: '2025-08-01' },
      { year: 2025, month: 8, from: '2025-08-01', to: '2025-09-01' },
    ]);
  });

  test('a zero window is the current month alone', () => {
    expect(monthsOfWindow(new Date('2024-02-29T12:00:00Z'), 0, 0)).toEqual([
      { year: 2024, month: 2, from: '2024-02-01', to: '2024-03-01' },
    ]);
  });
});

describe('the engine keeps audit_events partitioned by month', () => {
  test('applying audit_events creates the default window around now, each partition one month wide', async () => {
    await using database = await freshDatabase('partitions');
    const result = await applyAuditEvents(database.url, JUNE_2025);
    expect(result.applied).toEqual(['0010_audit_events']);
    expect(result.partitionsCreated).toEqual([
      'audit_events_2025_05',
      'audit_events_2025_06',
      'audit_events_2025_07',
      'audit_events_2025_08',
      'audit_events_2025_09',
    ]);
    expect(await partitionsOf(database.url)).toEqual({
      audit_events_2025_05: "FOR VALUES FROM ('2025-05-01') TO ('2025-06-01')",
      audit_events_2025_06: "FOR VALUES FROM ('2025-06-01') TO ('2025-07-01')",
      audit_events_2025_07: "FOR VALUES FROM ('2025-07-01') TO ('2025-08-01')",
      audit_events_2025_08: "FOR VALUES FROM ('2025-08-01') TO ('2025-09-01')",
      audit_events_2025_09: "FOR VALUES FROM ('2025-09-01') TO ('2025-10-01')",
    });
  });

  test('every apply rolls the window: the same month creates nothing, a later one only what is new', async () => {
    await using database = await freshDatabase('partitions');
    expect((await applyAuditEvents(database.url, JUNE_2025)).partitionsCreated).toHaveLength(5);

    const again = await applyAuditEvents(database.url, JUNE_2025);
    expect(again).toMatchObject({ applied: [], alreadyApplied: ['0010_audit_events'], partitionsCreated: [] });

    const july = await applyAuditEvents(database.url, new Date('2025-07-03T00:00:00Z'));
    expect(july).toMatchObject({ applied: [], partitionsCreated: ['audit_events_2025_10'] });
    expect(Object.keys(await partitionsOf(database.url))).toHaveLength(6);
  });

  test('verification finds no partition for a day past the window; the next apply at that day makes one', async () => {
    await using database = await freshDatabase('partitions');
    await applyAuditEvents(database.url, JUNE_2025);
    const run = { url: database.url, tables: ['audit_events'], logger: false as const };
    await expect(verifyMigrations({ ...run, now: new Date('2025-09-30T23:59:59Z') })).resolves.toBeUndefined();

    const march = new Date('2026-03-01T00:00:00Z');
    const error = await verifyMigrations({ ...run, now: march }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as VerificationError).problems).toEqual([
      'partitioned table audit_events has no partition for today (2026-03-01); inserts dated today would fail',
    ]);

    const rolled = await applyAuditEvents(database.url, march);
    expect(rolled.partitionsCreated).toEqual(['audit_events_2026_02', 'audit_events_2026_03', 'audit_events_2026_04', 'audit_events_2026_05', 'audit_events_2026_06']);
    expect(rolled.stages.map((s) => `${s.stage}:${s.ok}`)).toContain('verify:true');
    await expect(verifyMigrations({ ...run, now: march })).resolves.toBeUndefined();
  });

  test('a window crossing a year boundary names and bounds months in the right years', async () => {
    await using database = await freshDatabase('partitions');
    const result = await applyAuditEvents(database.url, new Date('2025-12-31T23:59:59Z'), { monthsBack: 2, monthsAhead: 2 });
    expect(result.partitionsCreated).toEqual([
      'audit_events_2025_10',
      'audit_events_2025_11',
      'audit_events_2025_12',
      'audit_events_2026_01',
      'audit_events_2026_02',
    ]);
    const bounds = await partitionsOf(database.url);
    expect(bounds['audit_events_2025_12']).toBe("FOR VALUES FROM ('2025-12-01') TO ('2026-01-01')");
    expect(bounds['audit_events_2026_01']).toBe("FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')");
  });

  test('10 services applying at once all succeed; the migration and each partition are created once', async () => {
    await using database = await freshDatabase('partitions');
    const results = await Promise.all(Array.from({ length: 10 }, () => applyAuditEvents(database.url, JUNE_2025)));
    expect(results.flatMap((r) => r.applied)).toEqual(['0010_audit_events']);
    const created = results.flatMap((r) => r.partitionsCreated).sort();
    expect(created).toEqual([...new Set(created)]);
    expect(created).toHaveLength(5);
    expect(Object.keys(await partitionsOf(database.url))).toHaveLength(5);
  });

  test('an unrelated table with a partition’s name stops the apply, naming the migration and the table', async () => {
    await using database = await freshDatabase('partitions');
    await withClient(database.url, (client) => client.query('create table audit_events_2025_06 (d date)'));
    const error = await applyAuditEvents(database.url, JUNE_2025).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).message).toMatch(/migration "0010_audit_events"/);
    expect((error as MigrationError).message).toMatch(/audit_events_2025_06: a relation with that name exists and is not a partition of audit_events/);
    expect((error as MigrationError).details).toMatchObject({ migration: '0010_audit_events' });
  });

  test('a window out of range is refused before any connection is made', async () => {
    // Nothing listens on port 1: reaching the server would be a DatabaseError, not this.
    const nowhere = 'postgres://nobody:secret@127.0.0.1:1/none';
    for (const partitions of [{ monthsBack: -1 }, { monthsAhead: 121 }, { monthsBack: 1.5 }]) {
      const error = await applyMigrations({ url: nowhere, tables: ['audit_events'], logger: false, now: JUNE_2025, partitions }).catch((e: unknown) => e);
      expect(error, JSON.stringify(partitions)).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain(Object.keys(partitions)[0]!);
    }
  });
});

describe('ensureMonthlyPartitions, exported for a service that keeps its own window', () => {
  /** audit_events as the engine leaves it with a one-month window in January 2000, far from the months below. */
  async function auditEventsFromJanuary2000() {
    const database = await freshDatabase('partitions');
    await applyAuditEvents(database.url, new Date('2000-01-15T00:00:00Z'), { monthsBack: 0, monthsAhead: 0 });
    return database;
  }
  const JUNE_WINDOW = { table: 'audit_events', now: JUNE_2025, ...DEFAULT_WINDOW };

  test('10 concurrent callers on separate connections all succeed and each partition is created once', async () => {
    await using database = await auditEventsFromJanuary2000();
    const clients = Array.from({ length: 10 }, () => new pg.Client({ connectionString: database.url }));
    try {
      // Connect every client first so that the calls really overlap instead of queueing on connects.
      await Promise.all(clients.map((client) => client.connect()));
      const results = await Promise.all(clients.map((client) => ensureMonthlyPartitions(client, JUNE_WINDOW)));
      const all = results.flat().sort();
      expect(all).toEqual([...new Set(all)]);
      expect(all).toEqual(['audit_events_2025_05', 'audit_events_2025_06', 'audit_events_2025_07', 'audit_events_2025_08', 'audit_events_2025_09']);
      expect(Object.keys(await partitionsOf(database.url))).toEqual(['audit_events_2000_01', ...all]);
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
  });

  test('runs in a transaction of its own: a failure part-way leaves none of the window behind', async () => {
    await using database = await auditEventsFromJanuary2000();
    await withClient(database.url, async (client) => {
      // July's range taken under another name: May and June are created, then July fails.
      await client.query(`create table audit_events_july partition of audit_events for values from ('2025-07-01') to ('2025-08-01')`);
      await expect(ensureMonthlyPartitions(client, JUNE_WINDOW)).rejects.toThrow(/would overlap partition "audit_events_july"/);
      // Read on the same connection: had the transaction been left open (and aborted), this would fail.
      expect(Object.keys(await partitionsOf(client))).toEqual(['audit_events_2000_01', 'audit_events_july']);
    });
  });

  test("inside the caller's transaction it uses a savepoint: the caller's rollback undoes its work too", async () => {
    await using database = await auditEventsFromJanuary2000();
    await withClient(database.url, async (client) => {
      await client.query('begin');
      await client.query('create table marker (x int)');
      expect(await ensureMonthlyPartitions(client, JUNE_WINDOW)).not.toEqual([]);
      await client.query('rollback');
      const { rows } = await client.query("select to_regclass('marker')::text as marker");
      expect(rows).toEqual([{ marker: null }]);
      expect(Object.keys(await partitionsOf(client))).toEqual(['audit_events_2000_01']);
    });
  });

  test.each([
    ['monthsBack', { monthsBack: -1 }],
    ['monthsBack', { monthsBack: 1.5 }],
    ['monthsBack', { monthsBack: 121 }],
    ['monthsBack', { monthsBack: Number.NaN }],
    ['monthsAhead', { monthsAhead: -2 }],
    ['monthsAhead', { monthsAhead: '3' as unknown as number }],
    ['monthsAhead', { monthsAhead: Number.POSITIVE_INFINITY }],
    ['now', { now: new Date('not a date') }],
    ['table', { table: 'Audit-Events' }],
    ['table', { table: 'a'.repeat(56) }],
  ])('rejects an invalid %s with a ConfigError naming it, before any query', async (option, override) => {
    const queries: string[] = [];
    const connection = { query: async (text: string) => (queries.push(text), { rows: [] }) };
    const error = await ensureMonthlyPartitions(connection, { ...JUNE_WINDOW, ...override }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(new RegExp(`\\boption ${option}\\b`));
    expect(queries).toEqual([]);
  });

  test('refuses a table that is missing or not partitioned', async () => {
    await using database = await freshDatabase('partitions');
    await withClient(database.url, async (client) => {
      await expect(ensureMonthlyPartitions(client, JUNE_WINDOW)).rejects.toThrow(/table audit_events does not exist/);
      await client.query('create table plain (d date)');
      await expect(ensureMonthlyPartitions(client, { ...JUNE_WINDOW, table: 'plain' })).rejects.toThrow(/plain is not a partitioned table/);
    });
  });
});
