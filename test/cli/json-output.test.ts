import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { COMMANDS } from '../../src/cli/parse-cli.ts';
import { pgClientConfig } from '../../src/postgres/connection-string.ts';
import { cli, CLI, type CliRun } from '../support/cli.ts';
import { freshDatabase } from '../support/fresh-database.ts';
import { kindCluster } from '../target/kind/kind-cluster.ts';

const KYSELY_BASIC = join(import.meta.dirname, '../migrate/fixtures/kysely-basic');

/** The one document a `--json` run printed: exactly one line of stdout, whatever the outcome. */
function document(run: CliRun): Record<string, unknown> & { ok: boolean; command: string | null; exitCode: number } {
  const lines = run.stdout.split('\n');
  expect(lines, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toHaveLength(2);
  expect(lines[1]).toBe('');
  const parsed = JSON.parse(lines[0]!) as Record<string, unknown> & { ok: boolean; command: string | null; exitCode: number };
  // The envelope: ok says whether the exit code is 0, and the exit code is the process's.
  expect(parsed.exitCode).toBe(run.code);
  expect(parsed.ok).toBe(run.code === 0);
  return parsed;
}

describe('--json: one document on stdout for every command and every outcome', () => {
  test('help, for the CLI and for every command', async () => {
    expect(document(await cli('--json'))).toMatchObject({ ok: true, command: 'help', text: expect.stringContaining('Commands:') });
    for (const command of COMMANDS) {
      const run = await cli(command, '--help', '--json');
      expect(document(run), command).toMatchObject({ ok: true, command: 'help', helpFor: command, text: expect.stringContaining(`e2e-migrations ${command}`) });
    }
  });

  test.each([
    [['migrate'], null, 'unknown command "migrate"', {}],
    [['apply', '--tabels', 'x'], 'apply', "Unknown option '--tabels'", {}],
    [['plan', '--tables', 'audit_evnts'], 'plan', 'unknown table "audit_evnts" in "tables"', { key: 'tables' }],
    [['verify'], 'verify', 'verify needs a database to look at', { key: 'target' }],
    [['apply', '--port', '5432'], 'apply', '"namespace" is required for the Kind target', { key: 'namespace' }],
  ] as const)('usage error %j: exit 2, error named, nothing started', async (args, command, message, details) => {
    const run = await cli(...args, '--json');
    expect(run.code, run.stderr).toBe(2);
    const doc = document(run);
    expect(doc).toMatchObject({ ok: false, command, exitCode: 2, error: { name: 'ConfigError', exitCode: 2, details } });
    expect((doc.error as { message: string }).message).toContain(message);
    // The same words on stderr, for people.
    expect(run.stderr).toContain(message);
  });

  test('results of list, plan, apply, verify, status, down and doctor share the envelope', async () => {
    await using db = await freshDatabase('json');
    const url = ['--url', db.url, '--migrations', KYSELY_BASIC, '--quiet', '--json'];
    expect(document(await cli('list', '--migrations', KYSELY_BASIC, '--json'))).toMatchObject({ ok: true, command: 'list', exitCode: 0, migrations: [{ name: '001_accounts' }, { name: '002_orders' }, { name: '003_events' }] });
    expect(document(await cli('plan', ...url, '--tables', 'orders'))).toMatchObject({ ok: true, command: 'plan', migrations: [{ state: 'pending' }, { state: 'pending' }] });
    expect(document(await cli('apply', ...url, '--tables', 'orders'))).toMatchObject({ ok: true, command: 'apply', applied: ['001_accounts', '002_orders'] });
    expect(document(await cli('verify', ...url, '--tables', 'orders'))).toEqual({ ok: true, command: 'verify', exitCode: 0 });
    expect(document(await cli('status', ...url))).toMatchObject({ ok: true, command: 'status', migrations: [{ checksum: 'ok' }, { checksum: 'ok' }, { checksum: 'pending' }] });
    expect(document(await cli('doctor', ...url))).toMatchObject({ ok: true, command: 'doctor', target: 'url' });
    expect(document(await cli('down', ...url, '--to', '001_accounts'))).toEqual({ ok: true, command: 'down', exitCode: 0, rolledBack: ['002_orders'] });
  });

  test('a failed run: the error with its stage and details, exit 1, the password nowhere', async () => {
    const run = await cli('apply', '--url', 'postgres://slm_user:json-secret-pw@127.0.0.1:1/action_history', '--json');
    expect(run.code).toBe(1);
    expect(document(run)).toEqual({
      ok: false,
      command: 'apply',
      exitCode: 1,
      error: {
        name: 'DatabaseError',
        message: expect.stringContaining('cannot connect to Postgres at 127.0.0.1:1'),
        stage: 'migrate',
        exitCode: 1,
        details: { host: '127.0.0.1', port: 1, database: 'action_history', user: 'slm_user' },
      },
    });
    expect(run.stdout + run.stderr).not.toContain('json-secret-pw');

    await using db = await freshDatabase('json');
    const verify = await cli('verify', '--url', db.url, '--migrations', KYSELY_BASIC, '--tables', 'orders', '--json', '--quiet');
    expect(document(verify)).toMatchObject({ ok: false, command: 'verify', exitCode: 1, error: { name: 'VerificationError', stage: 'verify', problems: ['missing table accounts', 'missing table orders'] } });
  });

  test('status and doctor that finish with a "no": ok false, exit 1, their result and no error', async () => {
    await using db = await freshDatabase('json');
    const url = ['--url', db.url, '--migrations', KYSELY_BASIC, '--quiet', '--json'];
    expect((await cli('apply', ...url)).code).toBe(0);
    const client = new pg.Client(pgClientConfig(db.connection));
    await client.connect();
    await client.query("update e2e_migration_checksum set checksum = repeat('0', 64) where name = '002_orders'").finally(() => client.end());

    const status = document(await cli('status', ...url));
    expect(status).toMatchObject({ ok: false, command: 'status', exitCode: 1, migrations: [{ checksum: 'ok' }, { name: '002_orders', checksum: 'changed' }, { checksum: 'ok' }] });
    expect(status).not.toHaveProperty('error');
    const doctor = document(await cli('doctor', ...url));
    expect(doctor).toMatchObject({ ok: false, command: 'doctor', exitCode: 1, links: expect.arrayContaining([expect.objectContaining({ link: 'ledger', status: 'fail' })]) });
    expect(doctor).not.toHaveProperty('error');
  });

  test('SIGINT mid-run: exit 130 and an Interrupted document, after the teardown', async () => {
    const child = spawn(process.execPath, [CLI, 'apply', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // The embedded server is starting: something is open that the teardown must close.
      if (/target\s+waiting for/.test(stderr)) child.kill('SIGINT');
    });
    const [code] = (await once(child, 'exit')) as [number];
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/teardown\s+ok/);
    expect(document({ code, stdout, stderr })).toEqual({
      ok: false,
      command: 'apply',
      exitCode: 130,
      error: { name: 'Interrupted', message: 'interrupted by SIGINT; what the run had opened was torn down', exitCode: 130, details: {} },
    });
  });

  test('forward: its document is one line, readable while the forward stays open', async () => {
    await using cluster = await kindCluster();
    const { kubeconfig, namespace, secret } = cluster.options;
    const child = spawn(process.execPath, [CLI, 'forward', '--kubeconfig', kubeconfig, '-n', namespace, '--secret', secret, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const doc = JSON.parse(line) as { url: string; port: number };
      expect(doc).toMatchObject({ ok: true, command: 'forward', exitCode: 0, host: '127.0.0.1', database: cluster.db.connection.database });
      expect(new URL(doc.url).password).toBe('***');
    } finally {
      child.kill('SIGINT');
    }
    const [code] = (await once(child, 'exit')) as [number];
    expect(code, stderr).toBe(0);
  });
});
