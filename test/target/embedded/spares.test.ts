import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { applyMigrations } from '../../../src/api/apply-migrations.ts';
import { runCli } from './reuse-probe.ts';

/*
 * A reused server's keeper keeps a spare copy of each template a run used, so the next run
 * takes its database by a rename instead of a copy; a spare copied before its template was
 * migrated again is never taken.
 */

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'spares-'));
});
afterEach(async () => {
  await runCli(tmp, ['stop', '--quiet']);
  await rm(tmp, { recursive: true, force: true });
});

const portOf = (stderr: string): number => Number(/127\.0\.0\.1:(\d+)/.exec(stderr)![1]);

async function spares(port: number): Promise<string[]> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'slm_user', password: 'test_password', database: 'postgres' });
  await client.connect();
  try {
    return (await client.query<{ datname: string }>("select datname from pg_database where datname like 'e2e\\_tpl\\_%\\_spare\\_%' order by 1")).rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
}

/** Waits (generously) for the keeper to have made a spare; the keeper works between runs. */
async function spareMade(port: number): Promise<string[]> {
  for (let i = 0; i < 200; i++) {
    const found = await spares(port);
    if (found.length > 0) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the keeper made no spare within 20 s');
}

describe('spare copies of a reused server', () => {
  test('the next run takes the spare the keeper made, and the keeper makes the one after', async () => {
    const first = await runCli(tmp, ['apply', '--all', '--reuse'], { CI: '' });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/migrate +ok .* copied from template e2e_tpl_/);
    const port = portOf(first.stderr);
    const [spare] = await spareMade(port);

    const second = await runCli(tmp, ['apply', '--all', '--reuse'], { CI: '' });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/migrate +ok .* taken from a spare copy of template e2e_tpl_/);
    expect(second.stdout).toMatch(/^applied 0, already applied 22/);
    const next = await spareMade(port);
    expect(next).toHaveLength(1);
    expect(next[0]).not.toBe(spare); // the first was taken (and its run's database dropped)
  });

  test('a template migrated again (a month later: new partitions) drops its spares, which are copies of the old one', async () => {
    const first = await runCli(tmp, ['apply', '--tables', 'audit_events', '--reuse'], { CI: '' });
    expect(first.code, first.stderr).toBe(0);
    const port = portOf(first.stderr);
    const [stale] = await spareMade(port);

    // In this process: the reused server recorded under this test's TMPDIR, and CI unset as the
    // CLI runs above have it (CI jobs set CI, which turns reuse off).
    vi.stubEnv('TMPDIR', tmp);
    vi.stubEnv('CI', '');
    let log = '';
    try {
      const later = new Date(Date.now() + 100 * 86_400_000);
      const result = await applyMigrations({ tables: ['audit_events'], reuse: true, now: later, logger: { write: (text: string) => void (log += text) } });
      expect(result.partitionsCreated.length).toBeGreaterThan(0);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(log).toMatch(/migrate +ok .* copied from template/); // not the stale spare
    expect(await spares(port)).not.toContain(stale);
  });
});
