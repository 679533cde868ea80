import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { applyMigrations, migrationStatus } from '../../src/index.ts';
import { freshDatabase } from '../support/fresh-database.ts';
import { cli } from '../support/cli.ts';



describe('plan: what apply would do, changing nothing', () => {
  test('without a database: the closure in order, each with why it is needed; list --tables shows the same', async () => {
    const plan = await cli('plan', '--tables', 'remediation_workflow_catalog', '--json');
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout).migrations.map((m: { name: string; reason: string; state: string }) => [m.name, m.reason, m.state])).toEqual([
      ['0002_extension_uuid_ossp', 'needed by 0031_remediation_workflow_catalog', 'unknown'],
      ['0003_function_update_updated_at', 'needed by 0030_action_type_taxonomy', 'unknown'],
      ['0030_action_type_taxonomy', 'needed by 0031_remediation_workflow_catalog', 'unknown'],
      ['0031_remediation_workflow_catalog', 'for remediation_workflow_catalog', 'unknown'],
    ]);
    const list = await cli('list', '--tables', 'audit_events');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ {2}0010_audit_events\s+for audit_events/m);
    expect(list.stdout).not.toContain('0020_notification_audit');
  });

  test('with a URL: applied and pending, the SQL with --sql; apply --dry-run applies nothing', async () => {
    await using db = await freshDatabase('plan');
    await applyMigrations({ url: db.url, tables: ['audit_events'], logger: false });
    const plan = await cli('plan', '--tables', 'audit_events,notification_audit', '--url', db.url, '--sql', '--json', '--quiet');
    expect(plan.code, plan.stderr).toBe(0);
    const result = JSON.parse(plan.stdout) as { migrations: { name: string; state: string; sql: string[] }[] };
    expect(result.migrations.map((m) => [m.name, m.state])).toEqual([
      ['0010_audit_events', 'applied'],
      ['0020_notification_audit', 'pending'],
    ]);
    expect(result.migrations[1]!.sql[0]).toMatch(/^create table "notification_audit"/);
    expect(plan.stdout).not.toContain(db.connection.password);

    const before = await migrationStatus({ url: db.url, logger: false });
    const dry = await cli('apply', '--dry-run', '--tables', 'notification_audit', '--url', db.url, '--quiet');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/1 to apply, 0 already applied/);
    expect(await migrationStatus({ url: db.url, logger: false })).toEqual(before);
  });

  test('an unknown table is a usage error before anything starts, also as JSON', async () => {
    const run = await cli('plan', '--tables', 'nope', '--url', 'postgres://u:p@127.0.0.1:1/d', '--json');
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { name: 'ConfigError', details: { key: 'tables' } } });
  });
});
