import { describe, expect, test } from 'vitest';
import { count, embeddedPort, expectEmbeddedGone, jest, stageResults, vitest } from './run-runner.ts';

/** What each fixture test file printed after `PROJECT `: its file, database and tables. */
function projects(output: string): Record<string, { database: string; tables: string[] }> {
  const found: Record<string, { database: string; tables: string[] }> = {};
  for (const match of output.matchAll(/PROJECT (\{.*\})/g)) {
    const { file, database, tables } = JSON.parse(match[1]!) as { file: string; database: string; tables: string[] };
    found[file.replace(/\.(spec|test)\.c?ts$|\.test\.cjs$/, '')] = { database, tables: tables.filter((t) => !t.startsWith('e2e_migration')) };
  }
  return found;
}

describe('the projects of one run share one embedded server', () => {
  test('Vitest test.projects: one server, a database per project, one shared where the projects say so, all gone after', async () => {
    const run = await vitest('vitest-projects');
    expect(run.code, run.output).toBe(0);
    expect(count(run.output, /\(started for this run\)/g)).toBe(1 + 1); // the target line and its teardown
    expect(count(run.output, /target\s+ok\s+\d+ ms\s+embedded: .*\(shared with this run's other projects\)/g)).toBe(4);
    expect(count(run.output, /embedded Postgres 16 on 127\.0\.0\.1:\d+/g)).toBe(10); // 5 targets, 5 teardowns, one port
    expect(new Set([...run.output.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => m[1])).size).toBe(1);

    const seen = projects(run.output);
    expect(seen.gateway!.tables).toEqual(['audit_events']);
    expect(seen.notification!.tables).toEqual(['notification_audit']);
    expect(seen.gateway!.database).not.toBe(seen.notification!.database);
    expect(seen['reader-a']).toEqual({ database: 'audit_shared', tables: ['audit_events', 'audit_retention_policies'] });
    expect(seen['reader-b']).toEqual(seen['reader-a']);
    expect(seen.isolated!.tables).toEqual(['audit_events']);
    expect(seen.isolated!.database).toMatch(/^e2e_tpl_[0-9a-f]{16}_[0-9a-f]{6}_/);

    expect(count(run.output, /teardown\s+ok/g)).toBe(5);
    expect(await expectEmbeddedGone(embeddedPort(run.output))).toEqual({ probe: 'ECONNREFUSED', processes: [] });
  });

  test('Jest projects: Jest calls the global setup once, yet every project is set up, one server, a database each', async () => {
    const run = await jest('jest-projects');
    expect(run.code, run.output).toBe(0);
    expect(stageResults(run.output)).toEqual([...['target ok', 'migrate ok', 'verify ok', 'provide ok'], ...['target ok', 'migrate ok', 'verify ok', 'provide ok'], 'teardown ok', 'teardown ok']);
    expect(count(run.output, /target\s+ok\s+\d+ ms\s+embedded: .*\(started for this run\)/g)).toBe(1);
    const seen = projects(run.output);
    expect(seen.gateway!.tables).toEqual(['audit_events']);
    expect(seen.notification!.tables).toEqual(['notification_audit']);
    expect(seen.gateway!.database).not.toBe(seen.notification!.database);
    expect(await expectEmbeddedGone(embeddedPort(run.output))).toEqual({ probe: 'ECONNREFUSED', processes: [] });
  });

  test('Jest projects without our test environment: refused before anything starts, naming the project', async () => {
    const run = await jest('jest-projects', [], { env: { FIXTURE_NO_ENV: '1' } });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/config failed: .*project "notification" needs testEnvironment: 'e2e-migrations\/jest\/environment'/);
    expect(run.output).not.toMatch(/target\s+(ok|waiting)/);
    expect(run.output).not.toMatch(/Unhandled|UnhandledPromiseRejection/);
  });
});
