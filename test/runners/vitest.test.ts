import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { freshDatabase } from '../support/fresh-database.ts';
import { count, embeddedPort, expectEmbeddedGone, FIXTURES, injected, stageResults, vitest, vitestWatchRerun } from './run-runner.ts';

const EMBEDDED_PASSWORD = 'test_password'; // the default the embedded target is started with

async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

describe('e2e-migrations/vitest on a real Vitest', () => {
  test('embedded: stages, injected values, DATABASE_URL, one teardown, nothing left running', async () => {
    const run = await vitest('vitest-project');
    expect(run.code, run.output).toBe(0);
    expect(stageResults(run.output)).toEqual(['target ok', 'migrate ok', 'verify ok', 'provide ok', 'teardown ok']);
    expect(run.output).toMatch(/migrate\s+ok\s+\d+ ms\s+1 applied, 0 already applied \(for audit_events\)/);
    expect(run.output).toMatch(/Tests\s+2 passed \| 1 skipped/); // includes the DATABASE_URL assertion inside
    const port = embeddedPort(run.output);
    expect(injected(run.output)).toEqual([{ host: '127.0.0.1', port, database: 'action_history', user: 'slm_user', tables: ['audit_events'], isolate: null }]);
    expect(count(run.output, /teardown\s+ok/)).toBe(1);
    expect(await expectEmbeddedGone(port)).toEqual({ probe: 'ECONNREFUSED', processes: [] });
    expect(run.output).not.toContain(EMBEDDED_PASSWORD);
  });

  test('URL target: the suite composes with what is already applied, and writes where it was told', async () => {
    await using db = await freshDatabase('vitest_url');
    const password = new URL(db.url).password;
    const first = await vitest('vitest-project', [], { env: { FIXTURE_URL: db.url } });
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(/target\s+ok\s+\d+ ms\s+url: 127\.0\.0\.1:\d+\/vitest_url_/);
    expect(first.output).toContain('1 applied, 0 already applied');
    expect(injected(first.output)[0]).toMatchObject({ database: db.connection.database, user: 'postgres', port: db.connection.port });

    const second = await vitest('vitest-project', [], { env: { FIXTURE_URL: db.url } });
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain('0 applied, 1 already applied');
    expect(count(second.output, /teardown\s+ok/)).toBe(1);

    const rows = await query<{ n: string }>(db.url, "select count(*) as n from audit_events where event_type = 'fixture.write'");
    expect(Number(rows[0]!.n)).toBe(2);
    expect(first.output + second.output).not.toContain(password);
  });

  test('failing tests: non-zero exit, teardown still runs once', async () => {
    const run = await vitest('vitest-project', [], { env: { FIXTURE_FAIL: '1' } });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/Tests\s+1 failed \| 2 passed/);
    expect(count(run.output, /teardown\s+ok/)).toBe(1);
    expect((await expectEmbeddedGone(embeddedPort(run.output))).probe).toBe('ECONNREFUSED');
  });

  test('a failing setup names the stage and the cause, runs no test, and keeps the password out', async () => {
    const run = await vitest('vitest-project', ['--config', 'vitest.unreachable.config.ts']);
    expect(run.code).toBe(1);
    expect(stageResults(run.output)).toEqual(['target ok', 'migrate FAILED', 'teardown ok']);
    expect(run.output).toContain(
      'SetupError: e2e-migrations (vitest global setup): migrate failed: cannot connect to Postgres at 127.0.0.1:1 (database "action_history", user "slm_user")',
    );
    expect(run.output).not.toMatch(/✓|Tests\s+\d+ passed/);
    expect(run.output).not.toContain('unreachable-secret-pw');
  });

  test('a wrong key is rejected before anything starts, naming the key and the config file', async () => {
    const run = await vitest('vitest-project', ['--config', 'vitest.bad-key.config.ts']);
    expect(run.code).toBe(1);
    expect(run.output).toContain('config failed: invalid test/runners/fixtures/vitest-project/vitest.bad-key.config.ts: unknown key "tabels"');
    expect(stageResults(run.output)).toEqual([]); // no target was started
    // The failure is the run's one error, not a run that found no test files.
    expect(run.output).toMatch(/Errors\s+1 error/);
    expect(run.output).not.toContain('No test files found');
  });

  test.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('%s mid-run: teardown runs once before Vitest exits, the server is stopped', async (signal, code) => {
    const run = await vitest('vitest-project', [], { env: { FIXTURE_SLOW_MS: '30000' }, interrupt: { when: /^INJECTED /m, signal } });
    expect(run.code).toBe(code);
    expect(run.output).toContain(`${signal}: tearing down before exit`);
    expect(count(run.output, /teardown\s+ok/)).toBe(1);
    expect(await expectEmbeddedGone(embeddedPort(run.output))).toEqual({ probe: 'ECONNREFUSED', processes: [] });
  });

  test("isolate: 'file' written in the block (no setupFiles): each file still gets its own clone", async () => {
    await using db = await freshDatabase('vitest_iso_block');
    const run = await vitest('vitest-project', ['--config', 'vitest.isolate-block.config.ts'], { env: { FIXTURE_URL: db.url } });
    expect(run.code, run.output).toBe(0);
    // Each file saw only its own row (the fixture asserts it) in a clone of the run.
    const clones = [...run.output.matchAll(/^CLONE (\S+)$/gm)].map((m) => m[1]!);
    expect(clones, run.output).toHaveLength(2);
    // Vitest's default pool: each worker process leased as it started, with no setup file.
    expect([...run.output.matchAll(/^PRELOADED (\w+)$/gm)].map((m) => m[1])).toEqual(['true', 'true']);
    expect(run.output).toMatch(/^\[e2e-migrations\] leases: 2 test files in [12] clones? \(\d reset and reused\)(; .*)?$/m);
    expect(await query(db.url, "select 1 from audit_events where correlation_id = 'isolated'")).toEqual([]);
  });

  test("isolate: 'file' where a worker runs several files (pool threads, --no-isolate): the per-file setup leases and gives back each file's clone", async () => {
    await using db = await freshDatabase('vitest_iso_pools');
    for (const flags of [['--pool', 'threads'], ['--no-isolate']]) {
      const run = await vitest('vitest-project', ['--config', 'vitest.isolate-block.config.ts', ...flags], { env: { FIXTURE_URL: db.url } });
      expect(run.code, run.output).toBe(0);
      // Each file saw only its own row (the fixture asserts it), also when both ran in one worker.
      expect([...run.output.matchAll(/^CLONE (\S+)$/gm)], run.output).toHaveLength(2);
      expect([...run.output.matchAll(/^PRELOADED (\w+)$/gm)].map((m) => m[1])).toEqual(['false', 'false']); // the per-file setup leased
      expect(run.output).toMatch(/^\[e2e-migrations\] leases: 2 test files in [12] clones? \(\d reset and reused\)(; .*)?$/m);
    }
    expect(await query(db.url, "select 1 from audit_events where correlation_id = 'isolated'")).toEqual([]);
  });

  test("isolate: 'file' — a clone per test file from a template keyed by the migrations, clones dropped", async () => {
    await using db = await freshDatabase('vitest_iso');
    const first = await vitest('vitest-project', ['--config', 'vitest.isolate.config.ts'], { env: { FIXTURE_URL: db.url } });
    expect(first.code, first.output).toBe(0);
    const template = /template (e2e_tpl_[0-9a-f]{16}) (built|reused), a clone per test file/.exec(first.output);
    expect(template, first.output).not.toBeNull();
    // Each file saw only its own row (the fixture asserts it): a clone of its own while it ran,
    // the second file's either the first's, reset, or another (with two workers at once).
    const clones = [...first.output.matchAll(/^CLONE (\S+)$/gm)].map((m) => m[1]!);
    expect(clones).toHaveLength(2);
    for (const clone of clones) expect(clone.startsWith(`${template![1]}_`)).toBe(true);
    const leases = /^\[e2e-migrations\] leases: 2 test files in ([12]) clones? \((\d) reset and reused\)(.*)$/m.exec(first.output);
    expect(leases, first.output).not.toBeNull();
    expect(new Set(clones).size + Number(leases![2])).toBe(2); // each file served by a clone not used before, or one put back
    // A URL target outlives the run: it keeps reset clones as spares for the next run (unless
    // spares are there already: other test files share this template), drops the rest.
    const kept = Number(/(\d) kept as spares? for the next run/.exec(leases![3]!)?.[1] ?? 0);
    const keptNote = kept ? ` \\(${kept} kept as spares?\\)` : '';
    expect(first.output).toMatch(new RegExp(`teardown\\s+ok\\s+\\d+ ms\\s+dropped ${Number(leases![1]) - kept} clones? of e2e_tpl_\\w+${keptNote}; closed `));

    const left = await query<{ datname: string; datistemplate: boolean }>(db.url, 'select datname, datistemplate from pg_database where datname like $1', ['e2e_tpl_%']);
    expect(left).toContainEqual({ datname: template![1], datistemplate: true });
    const runPrefix = clones[0]!.slice(0, -8); // <template>_<run id>_: the run's clones
    expect(left.filter((row) => row.datname.startsWith(runPrefix))).toEqual([]);
    // The rows went to the clones, not to the shared database.
    expect(await query(db.url, "select 1 from audit_events where correlation_id = 'isolated'")).toEqual([]);

    const second = await vitest('vitest-project', ['--config', 'vitest.isolate.config.ts'], { env: { FIXTURE_URL: db.url } });
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain(`template ${template![1]} reused`);
  });

  test('watch mode: the target stays up across reruns, each rerun re-verifies; SIGTERM tears down once', async () => {
    const spec = join(FIXTURES, 'vitest-project/audit.spec.ts');
    const run = await vitestWatchRerun('vitest-project', [], spec);
    expect(run.stopped, run.output).toBe(true);
    expect(count(run.output, /target\s+ok/)).toBe(1);
    expect(run.output).toMatch(/verify\s+ok\s+\d+ ms\s+rerun: 1 relations still match/);
    expect(count(run.output, /teardown\s+ok/)).toBe(1);
    expect((await expectEmbeddedGone(embeddedPort(run.output))).probe).toBe('ECONNREFUSED');
  });

  test('resetDatabase() in a test file: its clone back as migrating left it, and the run still exits on its own', async () => {
    const run = await vitest('vitest-project', ['--config', 'vitest.reset.config.ts']);
    expect(run.code, run.output).toBe(0); // not killed: the kept connection held no worker open
    expect(run.output).toMatch(/Tests\s+2 passed/);
    const reset = /^RESET (\{.*\})$/m.exec(run.output);
    expect(JSON.parse(reset![1]!)).toMatchObject({ method: 'delete', restored: ['audit_retention_policies'] });
    expect(run.output).toMatch(/teardown\s+ok\s+\d+ ms\s+dropped 1 clone of e2e_tpl_\w+; closed /);
  });
});
