import { sql, type Kysely } from 'kysely';
import { describe, expect, test } from 'vitest';
import { ensureMonthlyPartitions, monthsOfWindow, partitionName } from '../../src/migrate/monthly-partitions.ts';
import { kyselyFor, loadMigrations, migrationOf } from '../support/apply-directly.ts';
import { freshDatabase } from '../support/fresh-database.ts';

const DEFAULT_WINDOW = { monthsBack: 1, monthsAhead: 3 } as const;

/** A database holding audit_events with no partitions at all (its `up` only, no `maintain`). */
async function withBareAuditEvents(body: (db: Kysely<any>, url: string) => Promise<void>): Promise<void> {
  await using database = await freshDatabase('partitions');
  await using db = kyselyFor(database.url);
  const auditEvents = migrationOf(await loadMigrations(), 'audit_events');
  await db.transaction().execute((trx) => auditEvents.module.up(trx));
  await body(db, database.url);
}

/** Partition name → its bound, as Postgres prints it. */
async function partitionsOf(db: Kysely<any>, table: string): Promise<Record<string, string>> {
  const { rows } = await sql<{ name: string; bound: string }>`
    select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
    from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = to_regclass(${table})
    order by c.relname`.execute(db);
  return Object.fromEntries(rows.map((r) => [r.name, r.bound]));
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

describe('ensureMonthlyPartitions', () => {
  test('the default window creates 5 partitions around now, each one month wide', async () => {
    await withBareAuditEvents(async (db) => {
      const created = await ensureMonthlyPartitions(db, { table: 'audit_events', now: new Date('2025-06-15T12:00:00Z'), ...DEFAULT_WINDOW });
      expect(created).toEqual([
        'audit_events_2025_05',
        'audit_events_2025_06',
        'audit_events_2025_07',
        'audit_events_2025_08',
        'audit_events_2025_09',
      ]);
      expect(await partitionsOf(db, 'audit_events')).toEqual({
        audit_events_2025_05: "FOR VALUES FROM ('2025-05-01') TO ('2025-06-01')",
        audit_events_2025_06: "FOR VALUES FROM ('2025-06-01') TO ('2025-07-01')",
        audit_events_2025_07: "FOR VALUES FROM ('2025-07-01') TO ('2025-08-01')",
        audit_events_2025_08: "FOR VALUES FROM ('2025-08-01') TO ('2025-09-01')",
        audit_events_2025_09: "FOR VALUES FROM ('2025-09-01') TO ('2025-10-01')",
      });
    });
  });

  test('is idempotent: a second call creates nothing, a later month creates only what is new', async () => {
    await withBareAuditEvents(async (db) => {
      const options = { table: 'audit_events', now: new Date('2025-06-15T12:00:00Z'), ...DEFAULT_WINDOW };
      expect(await ensureMonthlyPartitions(db, options)).toHaveLength(5);
      expect(await ensureMonthlyPartitions(db, options)).toEqual([]);
      expect(await ensureMonthlyPartitions(db, { ...options, now: new Date('2025-07-03T00:00:00Z') })).toEqual([
        'audit_events_2025_10',
      ]);
      expect(Object.keys(await partitionsOf(db, 'audit_events'))).toHaveLength(6);
    });
  });

  test('10 concurrent callers on separate connections all succeed and each partition is created once', async () => {
    await withBareAuditEvents(async (_db, url) => {
      const clients = Array.from({ length: 10 }, () => kyselyFor(url, 1));
      try {
        // Connect every client first so that the calls really overlap instead of queueing on connects.
        await Promise.all(clients.map((client) => sql`select 1`.execute(client)));
        const options = { table: 'audit_events', now: new Date('2025-06-15T12:00:00Z'), ...DEFAULT_WINDOW };
        const results = await Promise.all(clients.map((client) => ensureMonthlyPartitions(client, options)));
        const all = results.flat().sort();
        expect(all).toEqual([...new Set(all)]);
        expect(all).toHaveLength(5);
        expect(Object.keys(await partitionsOf(clients[0]!, 'audit_events'))).toHaveLength(5);
      } finally {
        await Promise.all(clients.map((client) => client.destroy()));
      }
    });
  });

  test('a window crossing a year boundary names and bounds months in the right years', async () => {
    await withBareAuditEvents(async (db) => {
      const created = await ensureMonthlyPartitions(db, { table: 'audit_events', now: new Date('2025-12-31T23:59:59Z'), monthsBack: 2, monthsAhead: 2 });
      expect(created).toEqual([
        'audit_events_2025_10',
        'audit_events_2025_11',
        'audit_events_2025_12',
        'audit_events_2026_01',
        'audit_events_2026_02',
      ]);
      const bounds = await partitionsOf(db, 'audit_events');
      expect(bounds['audit_events_2025_12']).toBe("FOR VALUES FROM ('2025-12-01') TO ('2026-01-01')");
      expect(bounds['audit_events_2026_01']).toBe("FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')");
    });
  });

  test('uses the caller’s transaction when given one', async () => {
    await withBareAuditEvents(async (db) => {
      await expect(
        db.transaction().execute(async (trx) => {
          await ensureMonthlyPartitions(trx, { table: 'audit_events', now: new Date('2025-06-15T12:00:00Z'), monthsBack: 0, monthsAhead: 0 });
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect(await partitionsOf(db, 'audit_events')).toEqual({});
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
  ])('rejects an invalid %s with an error naming it', async (option, override) => {
    await using database = await freshDatabase('partitions');
    await using db = kyselyFor(database.url);
    const options = { table: 'audit_events', now: new Date('2025-06-15T12:00:00Z'), ...DEFAULT_WINDOW, ...override };
    await expect(ensureMonthlyPartitions(db, options)).rejects.toThrow(new RegExp(`\\boption ${option}\\b`));
  });

  test('refuses a table that is missing or not partitioned', async () => {
    await using database = await freshDatabase('partitions');
    await using db = kyselyFor(database.url);
    const options = { now: new Date('2025-06-15T12:00:00Z'), ...DEFAULT_WINDOW };
    await expect(ensureMonthlyPartitions(db, { ...options, table: 'audit_events' })).rejects.toThrow(/does not exist/);
    await sql`create table plain (d date)`.execute(db);
    await expect(ensureMonthlyPartitions(db, { ...options, table: 'plain' })).rejects.toThrow(/not a partitioned table/);
  });

  test('refuses to treat an unrelated table with a partition’s name as a partition', async () => {
    await withBareAuditEvents(async (db) => {
      await sql`create table audit_events_2025_06 (d date)`.execute(db);
      await expect(
        ensureMonthlyPartitions(db, { table: 'audit_events', now: new Date('2025-06-15T12:00:00Z'), ...DEFAULT_WINDOW }),
      ).rejects.toThrow(/exists and is not a partition of audit_events/);
    });
  });
});
