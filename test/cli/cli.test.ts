import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { freshDatabase } from '../support/fresh-database.ts';
import { cli } from '../support/cli.ts';

const FIXTURES = join(import.meta.dirname, '../migrate/fixtures');



describe('e2e-migrations CLI', () => {
  test('--help on the CLI and on every command', async () => {
    const top = await cli('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Commands:');
    for (const command of ['list', 'apply', 'verify', 'status', 'down', 'forward']) {
      const run = await cli(command, '--help');
      expect(run.code, command).toBe(0);
      expect(run.stdout).toContain(`e2e-migrations ${command}`);
    }
  });

  test('usage errors exit 2 and say what is wrong', async () => {
    const unknownCommand = await cli('migrate');
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain('unknown command "migrate"');
    const unknownFlag = await cli('apply', '--tabels', 'x');
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain("Unknown option '--tabels'");
    const badPort = await cli('apply', '--namespace', 'x', '--port', 'abc');
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port must be a whole number');
  });

  test('apply, status, verify and down against a URL, with --json', async () => {
    await using db = await freshDatabase('cli');
    const url = ['--url', db.url, '--migrations', join(FIXTURES, 'kysely-basic')];

    const list = await cli('list', '--migrations', join(FIXTURES, 'kysely-basic'), '--json');
    expect(JSON.parse(list.stdout).migrations.map((m: { name: string }) => m.name)).toEqual(['001_accounts', '002_orders', '003_events']);

    const apply = await cli('apply', ...url, '--tables', 'orders', '--json');
    expect(apply.code, apply.stderr).toBe(0);
    expect(JSON.parse(apply.stdout)).toMatchObject({ ok: true, applied: ['001_accounts', '002_orders'], tables: ['accounts', 'orders'] });
    expect(apply.stderr).toMatch(/migrate\s+ok\s+\d+ ms\s+2 applied, 0 already applied \(for orders\)/);
    expect(apply.stderr).toMatch(/verify\s+ok/);

    const status = await cli('status', ...url, '--json');
    expect(JSON.parse(status.stdout).migrations.map((m: { name: string; checksum: string }) => `${m.name}:${m.checksum}`)).toEqual([
      '001_accounts:ok',
      '002_orders:ok',
      '003_events:pending',
    ]);

    const verifyMissing = await cli('verify', ...url, '--tables', 'events');
    expect(verifyMissing.code).toBe(1);
    expect(verifyMissing.stderr).toContain('missing table events');

    const down = await cli('down', ...url, '--to', '001_accounts', '--json');
    expect(JSON.parse(down.stdout)).toEqual({ ok: true, command: 'down', exitCode: 0, rolledBack: ['002_orders'] });
  });

  test('a database that cannot be reached exits 1 naming host:port, never the password', async () => {
    const run = await cli('apply', '--url', 'postgres://slm_user:s3cr3t-pw@127.0.0.1:1/action_history');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot connect to Postgres at 127.0.0.1:1 (database "action_history", user "slm_user")');
    expect(run.stdout + run.stderr).not.toContain('s3cr3t-pw');
  });

  test('a wrong password exits 1 and is not printed', async () => {
    await using db = await freshDatabase('cli');
    const wrong = new URL(db.url);
    wrong.password = 'not-the-password';
    const run = await cli('apply', '--url', wrong.toString(), '--json');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('login refused for user "postgres"');
    expect(run.stdout + run.stderr).not.toContain('not-the-password');
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { name: 'DatabaseError', stage: 'migrate' } });
  });

  test('an unknown table exits 2 and lists the valid ones', async () => {
    await using db = await freshDatabase('cli');
    const run = await cli('apply', '--url', db.url, '--migrations', join(FIXTURES, 'kysely-basic'), '--tables', 'invoices');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown table "invoices" in "tables"; valid tables are: accounts, events, orders');
  });
});
