import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { applyMigrations, ConfigError, resolveConfig, verifyMigrations } from '../../src/index.ts';
import { detectPartitionNaming, renderPartitionName, type ExistingPartition } from '../../src/migrate/monthly-partitions.ts';
import { freshDatabase } from '../support/fresh-database.ts';
import { gooseDirectory, gooseFile } from './goose/goose-directory.ts';

const month = (name: string, from: string, to: string): ExistingPartition => ({ name, bound: `FOR VALUES FROM ('${from}') TO ('${to}')` });

describe('the naming of monthly partitions is read from the partitions a table has', () => {
  test.each([
    ['audit_events_2026_11', 'audit_events_2027_02'],
    ['audit_events_y2026m11', 'audit_events_y2027m02'],
    ['audit_events_202611', 'audit_events_202702'],
    ['audit_events_p2026_11_v1', 'audit_events_p2027_02_v1'],
    ['events_11_2026', 'events_02_2027'],
  ])('%s names February 2027 %s', (name, february) => {
    const naming = detectPartitionNaming([month(name, '2026-11-01', '2026-12-01')]);
    expect(naming).toBeDefined();
    expect(renderPartitionName(naming!, 2027, 2)).toBe(february);
  });

  test('the newest monthly partition gives the pattern; the others decide whether months are zero-padded', () => {
    const unpadded = detectPartitionNaming([month('t_2026_3', '2026-03-01', '2026-04-01'), month('t_2026_11', '2026-11-01', '2026-12-01')]);
    expect(renderPartitionName(unpadded!, 2027, 2)).toBe('t_2027_2');
    const padded = detectPartitionNaming([month('t_2026_03', '2026-03-01', '2026-04-01'), month('t_2026_11', '2026-11-01', '2026-12-01')]);
    expect(renderPartitionName(padded!, 2027, 2)).toBe('t_2027_02');
    // A convention changed over time: the newest partition's wins.
    const changed = detectPartitionNaming([month('t_2025_01', '2025-01-01', '2025-02-01'), month('t_y2026m11', '2026-11-01', '2026-12-01')]);
    expect(renderPartitionName(changed!, 2027, 2)).toBe('t_y2027m02');
  });

  test('only partitions one calendar month wide count; timestamp and timestamptz bounds are read too', () => {
    expect(detectPartitionNaming([{ name: 't_default', bound: 'DEFAULT' }, month('t_2026', '2026-01-01', '2027-01-01'), month('t_2026_11_a', '2026-11-01', '2026-11-15')])).toBeUndefined();
    expect(detectPartitionNaming([month('t_nodate', '2026-11-01', '2026-12-01')])).toBeUndefined();
    const tz = detectPartitionNaming([month('t_y2026m11', '2026-11-01 00:00:00+00', '2026-12-01 00:00:00+00')]);
    expect(renderPartitionName(tz!, 2026, 12)).toBe('t_y2026m12');
    const stamp = detectPartitionNaming([month('t_2026_12', '2026-12-01 00:00:00', '2027-01-01 00:00:00')]);
    expect(renderPartitionName(stamp!, 2027, 1)).toBe('t_2027_01');
  });
});

/** A goose directory with a fixed list of months, as teams write them: January to March 2025. */
function fixedMonths(naming: (year: number, month: number) => string) {
  const partitions = [1, 2, 3]
    .map((m) => `CREATE TABLE ${naming(2025, m)} PARTITION OF audit_events FOR VALUES FROM ('2025-0${m}-01') TO ('2025-0${m + 1}-01');`)
    .join('\n');
  return {
    '001_audit.sql': gooseFile(
      `-- +goose StatementBegin\nCREATE TABLE audit_events (id bigserial, event_date date NOT NULL, PRIMARY KEY (id, event_date)) PARTITION BY RANGE (event_date);\n${partitions}\n-- +goose StatementEnd`,
      'DROP TABLE audit_events;',
    ),
    '002_plain.sql': gooseFile('CREATE TABLE plain (id int);\nCREATE TABLE listed (k text) PARTITION BY LIST (k);\nCREATE VIEW a_view AS SELECT 1 AS one;', 'DROP VIEW a_view;\nDROP TABLE listed;\nDROP TABLE plain;'),
  };
}

async function partitionsOf(url: string, table: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>('select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = to_regclass($1) order by 1', [table]);
    return rows.map((r) => r.name);
  } finally {
    await client.end();
  }
}

describe('partitions.tables keeps monthly partitions rolling for any source', () => {
  const NOV_2026 = new Date('2026-11-15T12:00:00Z');

  test("a goose directory's fixed months never run out: the window is added, named as the directory names them", async () => {
    await using db = await freshDatabase('rolling');
    await using dir = await gooseDirectory(fixedMonths((y, m) => `audit_events_y${y}m${String(m).padStart(2, '0')}`));
    // Without it, a date past the fixed months has nowhere to go.
    const stale = await applyMigrations({ url: db.url, migrations: dir.path, logger: false, now: NOV_2026 }).catch((e: unknown) => e);
    expect((stale as Error).message).toContain('partitioned table audit_events has no partition for today (2026-11-15)');

    const result = await applyMigrations({ url: db.url, migrations: dir.path, partitions: { monthsBack: 1, monthsAhead: 2, tables: ['audit_events'] }, logger: false, now: NOV_2026 });
    expect(result.partitionsCreated).toEqual(['audit_events_y2026m10', 'audit_events_y2026m11', 'audit_events_y2026m12', 'audit_events_y2027m01']);
    await verifyMigrations({ url: db.url, migrations: dir.path, logger: false, now: NOV_2026 });

    // The next month's run adds only what is new.
    const later = await applyMigrations({ url: db.url, migrations: dir.path, partitions: { monthsBack: 1, monthsAhead: 2, tables: ['audit_events'] }, logger: false, now: new Date('2026-12-02T00:00:00Z') });
    expect(later.partitionsCreated).toEqual(['audit_events_y2027m02']);
    expect(await partitionsOf(db.url, 'audit_events')).toHaveLength(3 + 5);
  });

  test('a table with the default naming keeps it', async () => {
    await using db = await freshDatabase('rolling');
    await using dir = await gooseDirectory(fixedMonths((y, m) => `audit_events_${y}_${String(m).padStart(2, '0')}`));
    const result = await applyMigrations({ url: db.url, migrations: dir.path, partitions: { monthsBack: 0, monthsAhead: 0, tables: ['audit_events'] }, logger: false, now: NOV_2026 });
    expect(result.partitionsCreated).toEqual(['audit_events_2026_11']);
  });

  test('an unknown or non-partitioned table named there is a config error naming each', async () => {
    await using db = await freshDatabase('rolling');
    await using dir = await gooseDirectory(fixedMonths((y, m) => `audit_events_${y}_${String(m).padStart(2, '0')}`));
    const error = await applyMigrations({
      url: db.url,
      migrations: dir.path,
      partitions: { tables: ['audit_events', 'audit_event', 'plain', 'listed', 'a_view'] },
      logger: false,
      now: new Date('2025-02-10T00:00:00Z'),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(
      '"partitions.tables" names what cannot have monthly range partitions: "audit_event" is not a relation of the database after migrating; ' +
        '"plain" is a table that is not partitioned; "listed" is partitioned by list, not by range; "a_view" is a view',
    );
    expect((error as ConfigError).details).toMatchObject({ key: 'partitions.tables' });
  });

  test('the block refuses a table name that is no plain lower-case identifier', () => {
    expect(() => resolveConfig({ partitions: { tables: ['Audit-Events'] } })).toThrow('"partitions.tables[0]": must be a lower-case table name');
    expect(resolveConfig({ partitions: { tables: ['audit_events', 'audit_events'] } }).partitions).toEqual({ monthsBack: 1, monthsAhead: 3, tables: ['audit_events'] });
  });
});
