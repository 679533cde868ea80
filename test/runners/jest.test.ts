import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { freshDatabase } from '../support/fresh-database.ts';
import { count, embeddedPort, expectEmbeddedGone, injected, jest, stageResults } from './run-runner.ts';

const EMBEDDED_PASSWORD = 'test_password';

describe('e2e-migrations/jest on a real Jest', () => {
  test('embedded, block in testEnvironmentOptions: no config warning, env reaches tests, one teardown, nothing left', async () => {
    const run = await jest('jest-project');
    expect(run.code, run.output).toBe(0);
    expect(run.output).not.toContain('Unknown option');
    expect(stageResults(run.output)).toEqual(['target ok', 'migrate ok', 'verify ok', 'provide ok', 'teardown ok']);
    expect(run.output).toMatch(/Tests:\s+1 skipped, 2 passed, 3 total/);
    const port = embeddedPort(run.output);
    expect(injected(run.output)).toEqual([{ host: '127.0.0.1', port, database: 'action_history', user: 'slm_user', tables: ['audit_events'] }]);
    expect(count(run.output, /teardown\s+ok/)).toBe(1);
    expect(await expectEmbeddedGone(port)).toEqual({ probe: 'ECONNREFUSED', processes: [] });
    expect(run.output).not.toContain(EMBEDDED_PASSWORD);
  });

  test('URL target from the config: migrations compose, tests write to that database', async () => {
    await using db = await freshDatabase('jest_url');
    const run = await jest('jest-project', [], { env: { FIXTURE_URL: db.url } });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('1 applied, 0 already applied');
    expect(injected(run.output)[0]).toMatchObject({ database: db.connection.database, port: db.connection.port, user: 'postgres' });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ n: number }>("select count(*)::int as n from audit_events where event_type = 'fixture.write'");
    await client.end();
    expect(rows[0]!.n).toBe(1);
    expect(run.output).not.toContain(new URL(db.url).password);
  });

  test('failing tests: exit 1, teardown still runs once', async () => {
    const run = await jest('jest-project', [], { env: { FIXTURE_FAIL: '1' } });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/Tests:\s+1 failed, 2 passed, 3 total/);
    expect(count(run.output, /teardown\s+ok/)).toBe(1);
    expect((await expectEmbeddedGone(embeddedPort(run.output))).probe).toBe('ECONNREFUSED');
  });

  test('a failing setup names the stage and the cause, and keeps the password out', async () => {
    const run = await jest('jest-project', [], { env: { FIXTURE_URL: 'postgres://slm_user:jest-secret-pw@127.0.0.1:1/action_history' } });
    expect(run.code).toBe(1);
    expect(stageResults(run.output)).toEqual(['target ok', 'migrate FAILED', 'teardown ok']);
    expect(run.output).toContain('e2e-migrations (jest global setup): migrate failed: cannot connect to Postgres at 127.0.0.1:1');
    expect(run.output).not.toContain('jest-secret-pw');
    expect(run.output).not.toMatch(/Tests:/);
  });

  test('a wrong key in the per-service config file is rejected naming the key and the file', async () => {
    const run = await jest('jest-bad-project');
    expect(run.code).toBe(1);
    expect(run.output).toContain(
      'config failed: invalid test/runners/fixtures/jest-bad-project/e2e-migrations.config.json: unknown key "partitions.monthsAhaed"',
    );
    expect(stageResults(run.output)).toEqual([]);
    expect(run.output).not.toContain('the global setup should have failed');
  });

  test.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s mid-run: teardown runs once before Jest exits', async (signal, code) => {
    const run = await jest('jest-project', [], { env: { FIXTURE_SLOW_MS: '30000' }, interrupt: { when: /INJECTED /, signal } });
    expect(run.code).toBe(code);
    expect(run.output).toContain(`${signal}: tearing down before exit`);
    expect(count(run.output, /teardown\s+ok/)).toBe(1);
    expect(await expectEmbeddedGone(embeddedPort(run.output))).toEqual({ probe: 'ECONNREFUSED', processes: [] });
  });

  test("isolate: 'file' without our test environment fails before anything starts, saying what is missing", async () => {
    const run = await jest('jest-file-project', ['--testEnvironment=node'], { env: { E2E_MIGRATIONS_TARGET_URL: 'postgres://u:p@127.0.0.1:1/d' } });
    expect(run.code).not.toBe(0);
    expect(run.output).toContain("config failed: isolate: 'file' (test/runners/fixtures/jest-file-project/e2e-migrations.config.json) needs testEnvironment: 'e2e-migrations/jest/environment' in the Jest config");
    expect(stageResults(run.output)).toEqual([]);
  });

  test("per-service config file, target from E2E_MIGRATIONS_TARGET_URL, isolate: 'file' with a clone per test file", async () => {
    await using db = await freshDatabase('jest_iso');
    // One worker: both files run in it, one after the other, and still neither sees the other's rows.
    const run = await jest('jest-file-project', ['--maxWorkers=1'], { env: { E2E_MIGRATIONS_TARGET_URL: db.url } });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('jest: target taken from E2E_MIGRATIONS_TARGET_URL (tables and options from test/runners/fixtures/jest-file-project/e2e-migrations.config.json)');
    expect(run.output).toMatch(/provide\s+ok\s+\d+ ms\s+.*template e2e_tpl_[0-9a-f]{16} (built|reused), a clone per test file/);
    // Each file saw none of the other's rows (the fixtures assert it): one worker, so the second
    // file had the first's clone, put back as migrating left it.
    const clones = [...run.output.matchAll(/CLONE (\S+)/g)].map((m) => m[1]!);
    expect(clones).toHaveLength(2);
    // The URL target outlives the run: its clone is kept as a spare, unless one is there already
    // (other test files share this template).
    expect(run.output).toMatch(/leases: 2 test files in 1 clone \(1 reset and reused\)(; .*)?$/m);
    expect(run.output).toMatch(/teardown\s+ok\s+\d+ ms\s+dropped (0 clones of e2e_tpl_\w+ \(1 kept as spare\)|1 clone of e2e_tpl_\w+); closed /);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    // Nothing of the run is left: no clone (<template>_<run id>_…).
    const { rows } = await client.query<{ datname: string }>('select datname from pg_database where starts_with(datname, $1)', [clones[0]!.slice(0, -8)]);
    const shared = await client.query("select 1 from audit_events where correlation_id like 'isolated-%'");
    await client.end();
    expect(rows).toEqual([]);
    expect(shared.rows).toEqual([]); // the tests wrote to their clones only
    expect(run.output).not.toContain(new URL(db.url).password);
  });

  test("resetDatabase() from 'e2e-migrations/jest' in a CommonJS test, on the shared database", async () => {
    const run = await jest('jest-project', ['--testEnvironment=e2e-migrations/jest/environment', '--testMatch', '**/reset.e2e.cjs']);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/Tests:\s+1 passed, 1 total/);
    expect(JSON.parse(/RESET (\{.*\})/.exec(run.output)![1]!)).toMatchObject({ method: 'delete', restored: [] });
    expect(count(run.output, /teardown\s+ok/)).toBe(1);
  });
});
