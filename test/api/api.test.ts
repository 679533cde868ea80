import { describe, expect, test } from 'vitest';
import {
  applyAuditMigrations,
  applyMigrations,
  availableMigrations,
  migrationStatus,
  rollbackMigrations,
  verifyMigrations,
  VerificationError,
} from '../../src/index.ts';
import { connect } from '../../src/postgres/connect.ts';
import { freshDatabase } from '../support/fresh-database.ts';
import { collector, refused } from '../support/log-sink.ts';

/** The calendar of these tests: partitions and verification follow it, never the wall clock. */
const NOW = new Date('2025-06-15T12:00:00Z');

describe('public API on the shipped DS schema', () => {
  test('availableMigrations lists names, tables and dependencies in application order', async () => {
    const migrations = await availableMigrations();
    const audit = migrations.find((m) => m.tables.includes('audit_events'));
    expect(audit).toMatchObject({ name: '0010_audit_events', dependsOn: [] });
    const seen = new Set<string>();
    for (const migration of migrations) {
      for (const dependency of migration.dependsOn) expect(seen.has(dependency), `${migration.name} after ${dependency}`).toBe(true);
      seen.add(migration.name);
    }
  });

  test('applyAuditMigrations applies only what audit_events needs, verified, with a per-stage report', async () => {
    await using db = await freshDatabase('api');
    const log = collector();
    const result = await applyAuditMigrations({ url: db.url, logger: log });
    expect(result.applied).toEqual(['0010_audit_events']);
    expect(result.stages.map((s) => `${s.stage}:${s.ok}`)).toEqual(['target:true', 'migrate:true', 'verify:true', 'teardown:true']);
    expect(log.text()).toMatch(/verify\s+ok\s+\d+ ms\s+1 table match/);
    expect(log.text()).not.toContain(db.connection.password);
    await expect(verifyMigrations({ url: db.url, tables: ['audit_events'], logger: false })).resolves.toBeUndefined();
  });

  test('verifyMigrations lists every missing table, changed column and missing partition at once', async () => {
    await using db = await freshDatabase('api');
    await applyAuditMigrations({ url: db.url, logger: false, now: NOW });
    const pg = await connect(db.connection);
    try {
      await pg.query('alter table audit_events alter column actor_id type text');
      await pg.query('alter table audit_events add column surprise int');
      await pg.query('drop table audit_events_2025_06');
    } finally {
      await pg.close();
    }
    const error = await verifyMigrations({ url: db.url, tables: ['audit_events', 'notification_audit'], logger: false, now: NOW }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as VerificationError).problems).toEqual([
      'column audit_events.actor_id is text, expected character varying(255)',
      'unexpected column audit_events.surprise',
      'missing table notification_audit',
      'partitioned table audit_events has no partition for today (2025-06-15); inserts dated today would fail',
    ]);
  });

  test('services with different selections compose on one database; status and rollback see them all', async () => {
    await using db = await freshDatabase('api');
    await applyAuditMigrations({ url: db.url, logger: false });
    const later = await applyMigrations({ url: db.url, tables: ['remediation_workflow_catalog'], logger: false });
    expect(later.applied).toEqual(['0002_extension_uuid_ossp', '0003_function_update_updated_at', '0030_action_type_taxonomy', '0031_remediation_workflow_catalog']);
    expect(later.alreadyApplied).toEqual([]);
    const statuses = await migrationStatus({ url: db.url, logger: false });
    expect(statuses.filter((s) => s.applied).map((s) => s.name)).toEqual([
      '0002_extension_uuid_ossp',
      '0003_function_update_updated_at',
      '0010_audit_events',
      '0030_action_type_taxonomy',
      '0031_remediation_workflow_catalog',
    ]);
    expect(statuses.every((s) => s.checksum === 'ok' || s.checksum === 'pending')).toBe(true);
    const rolledBack = await rollbackMigrations({ url: db.url, to: '0010_audit_events', logger: false });
    expect(rolledBack).toEqual(['0031_remediation_workflow_catalog', '0030_action_type_taxonomy', '0003_function_update_updated_at', '0002_extension_uuid_ossp']);
    await expect(verifyMigrations({ url: db.url, tables: ['audit_events'], logger: false })).resolves.toBeUndefined();
  });

  test('the embedded default starts Postgres 16, applies everything, and stops it afterwards', async () => {
    const log = collector();
    const result = await applyMigrations({ logger: log });
    expect(result.applied).toHaveLength((await availableMigrations()).length);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(log.text())?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(log.text()).toMatch(/teardown ok/);
    expect(await refused(port)).toBe(true);
  });
});
