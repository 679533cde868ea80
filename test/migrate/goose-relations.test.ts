import { describe, expect, test } from 'vitest';
import { applyMigrations, ConfigError, rollbackMigrations, VerificationError, verifyMigrations } from '../../src/index.ts';
import { connect } from '../../src/postgres/connect.ts';
import { freshDatabase } from '../support/fresh-database.ts';
import { collector } from '../support/log-sink.ts';
import { gooseDirectory, gooseFile } from './goose/goose-directory.ts';

/** The calendar of these tests: partitions and verification follow it, never the wall clock. */
const NOW = new Date('2025-06-15T12:00:00Z');

/**
 * A DS-like history: one StatementBegin block creates everything (partitioned tables with their
 * partitions, a view, a materialized view); later files drop a default partition, drop a table
 * with CASCADE (taking a view with it), rename a table, and add one outside a transaction.
 */
const HISTORY = {
  '001_schema.sql': gooseFile(
    `-- +goose StatementBegin
CREATE TABLE resource_references (id bigserial PRIMARY KEY, name text NOT NULL);
CREATE TABLE audit_events (id bigserial, event_date date NOT NULL, body jsonb, PRIMARY KEY (id, event_date)) PARTITION BY RANGE (event_date);
CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;
CREATE TABLE audit_events_2025_05 PARTITION OF audit_events FOR VALUES FROM ('2025-05-01') TO ('2025-06-01');
CREATE TABLE audit_events_2025_06 PARTITION OF audit_events FOR VALUES FROM ('2025-06-01') TO ('2025-07-01');
CREATE TABLE audit_events_2025_07 PARTITION OF audit_events FOR VALUES FROM ('2025-07-01') TO ('2025-08-01');
CREATE TABLE action_traces (id bigserial, at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE action_traces_default PARTITION OF action_traces DEFAULT;
CREATE VIEW traces_view AS SELECT id FROM action_traces;
CREATE VIEW action_summary AS SELECT name FROM resource_references;
CREATE MATERIALIZED VIEW summary_mv AS SELECT count(*) AS n FROM resource_references;
-- +goose StatementEnd`,
    'DROP MATERIALIZED VIEW summary_mv;\nDROP VIEW action_summary;\nDROP TABLE action_traces CASCADE;\nDROP TABLE audit_events;\nDROP TABLE resource_references;',
  ),
  '002_drop_default.sql': gooseFile('DROP TABLE IF EXISTS audit_events_default CASCADE;', 'CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;'),
  '003_drop_traces.sql': gooseFile(
    'DROP TABLE action_traces CASCADE;',
    'CREATE TABLE action_traces (id bigserial, at timestamptz NOT NULL) PARTITION BY RANGE (at);\nCREATE TABLE action_traces_default PARTITION OF action_traces DEFAULT;\nCREATE VIEW traces_view AS SELECT id FROM action_traces;',
  ),
  '004_rename.sql': gooseFile('ALTER TABLE resource_references RENAME TO resources;', 'ALTER TABLE resources RENAME TO resource_references;'),
  '005_late.sql': gooseFile('CREATE TABLE late (id int);\nCREATE INDEX CONCURRENTLY late_id ON late (id);', 'DROP TABLE late;', { noTransaction: true }),
};

const LEFT = ['action_summary', 'audit_events', 'late', 'resources', 'summary_mv'];

describe('what a goose directory leaves is read from the database, not from its SQL', () => {
  test('each file records the relations after it; drops, CASCADE, renames and partitions are right', async () => {
    await using db = await freshDatabase('goose_rel');
    await using dir = await gooseDirectory(HISTORY);
    const result = await applyMigrations({ url: db.url, migrations: dir.path, logger: false, now: NOW });
    expect(result.applied).toEqual(['001_schema', '002_drop_default', '003_drop_traces', '004_rename', '005_late']);
    expect(result.tables).toEqual(LEFT);

    const pg = await connect(db.connection);
    try {
      const { rows } = await pg.query<{ name: string; relations: string[] }>('select name, relations from e2e_migration_relations order by name');
      expect(Object.fromEntries(rows.map((r) => [r.name, r.relations]))).toEqual({
        '001_schema': ['action_summary', 'action_traces', 'audit_events', 'resource_references', 'summary_mv', 'traces_view'],
        '002_drop_default': ['action_summary', 'action_traces', 'audit_events', 'resource_references', 'summary_mv', 'traces_view'],
        '003_drop_traces': ['action_summary', 'audit_events', 'resource_references', 'summary_mv'],
        '004_rename': ['action_summary', 'audit_events', 'resources', 'summary_mv'],
        '005_late': LEFT,
      });
    } finally {
      await pg.close();
    }
  });

  test('verify checks the record of the newest applied migration: a relation gone by hand is missing, a rolled-back file expects nothing', async () => {
    await using db = await freshDatabase('goose_rel');
    await using dir = await gooseDirectory(HISTORY);
    await applyMigrations({ url: db.url, migrations: dir.path, logger: false, now: NOW });
    const log = collector();
    await verifyMigrations({ url: db.url, migrations: dir.path, logger: log, now: NOW });
    expect(log.text()).toMatch(/verify\s+ok\s+\d+ ms\s+5 tables match/);

    const pg = await connect(db.connection);
    try {
      await pg.query('drop view action_summary');
      const error = await verifyMigrations({ url: db.url, migrations: dir.path, logger: false, now: NOW }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VerificationError);
      expect((error as VerificationError).problems).toEqual(['missing table action_summary']);
      await pg.query('create view action_summary as select name from resources');

      expect(await rollbackMigrations({ url: db.url, migrations: dir.path, to: '004_rename', logger: false })).toEqual(['005_late']);
      await verifyMigrations({ url: db.url, migrations: dir.path, logger: false, now: NOW });
      // A day past audit_events' fixed months, now that 002 dropped its default partition.
      const late = await verifyMigrations({ url: db.url, migrations: dir.path, logger: false, now: new Date('2025-09-01T00:00:00Z') }).catch((e: unknown) => e);
      expect((late as VerificationError).problems).toEqual(['partitioned table audit_events has no partition for today (2025-09-01); inserts dated today would fail']);
    } finally {
      await pg.close();
    }
  });

  test('declared tables apply the whole directory; a table created beside its partitions in a StatementBegin block is known', async () => {
    await using db = await freshDatabase('goose_rel');
    await using dir = await gooseDirectory(HISTORY);
    const log = collector();
    const result = await applyMigrations({ url: db.url, migrations: dir.path, tables: ['audit_events'], logger: log, now: NOW });
    expect(result.applied).toHaveLength(5);
    expect(log.text()).toMatch(/migrate\s+ok\s+\d+ ms\s+5 applied, 0 already applied \(for audit_events\)/);
    expect(log.text()).toMatch(/verify\s+ok\s+\d+ ms\s+5 tables match/);
  });

  test('a declared table the directory does not leave is a config error listing what it leaves', async () => {
    await using db = await freshDatabase('goose_rel');
    await using dir = await gooseDirectory(HISTORY);
    const error = await applyMigrations({ url: db.url, migrations: dir.path, tables: ['audit_events', 'action_traces', 'nope'], logger: false, now: NOW }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(
      `unknown tables "action_traces", "nope" in "tables": the goose migrations in ${dir.path} do not leave them; ` +
        'after 005_late.sql the database holds: action_summary, audit_events, late, resources, summary_mv',
    );
    expect((error as ConfigError).details).toMatchObject({ key: 'tables' });
  });

  test('verify of a goose directory with nothing applied says so', async () => {
    await using db = await freshDatabase('goose_rel');
    await using dir = await gooseDirectory(HISTORY);
    const error = await verifyMigrations({ url: db.url, migrations: dir.path, logger: false, now: NOW }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as VerificationError).problems).toEqual([`no migration of ${dir.path} is applied (it has 5 goose files); run apply first`]);
  });
});
