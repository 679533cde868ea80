import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { formatConnectionString, type ConnectionInfo } from '../../src/postgres/connection-string.ts';
import { templateLockKey } from '../../src/provide/clone.ts';
import { parseRecord } from '../../src/provide/database-record.ts';
import { pruneIsolation } from '../../src/provide/prune-isolation.ts';
import { ensureTemplate } from '../../src/provide/template.ts';
import { startSession } from '../../src/session/start-session.ts';
import { startEmbeddedTarget } from '../../src/target/embedded/embedded-target.ts';
import type { StartedTarget } from '../../src/target/target.ts';
import { cli } from '../support/cli.ts';
import { run, vitest, type RunnerRun } from '../runners/run-runner.ts';

/*
 * Pruning judges every isolation database on a server, so these tests run on a server of
 * their own: another test file's runs on the suite's server would prune (or make) databases
 * under our feet.
 */
let server: StartedTarget;
let admin: ConnectionInfo;

beforeAll(async () => {
  server = await startEmbeddedTarget({ user: 'postgres', password: 'prune-suite-pw', database: 'postgres' });
  admin = server.connection;
}, 120_000);
afterAll(() => server?.close());

async function sql<T extends pg.QueryResultRow>(text: string, values: unknown[] = [], database = 'postgres'): Promise<T[]> {
  const client = new pg.Client({ ...admin, database });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

async function names(prefix: string): Promise<string[]> {
  return (await sql<{ datname: string }>('select datname from pg_database where starts_with(datname, $1) order by datname', [prefix])).map((r) => r.datname);
}

async function newDatabase(): Promise<string> {
  const name = `prune_${randomBytes(4).toString('hex')}`;
  await sql(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  return formatConnectionString({ ...admin, database: name });
}

const BLOCK = { tables: ['audit_events'], partitions: { monthsBack: 0, monthsAhead: 1 } };
const DAY_MS = 86_400_000;
const RUN_SCRIPT = join(import.meta.dirname, 'fixtures/isolating-run.ts');

interface Run {
  readonly prefix: string;
  readonly clone: string;
  kill(signal: NodeJS.Signals): void;
  readonly done: Promise<RunnerRun>;
}

/** An isolating run in a process of its own (fixtures/isolating-run.ts), once it made its clones. */
async function startRun(url: string): Promise<Run> {
  let child: { kill(signal: NodeJS.Signals): void } | undefined;
  let resolveReady: (ready: { prefix: string; clone: string }) => void;
  const ready = new Promise<{ prefix: string; clone: string }>((resolve) => (resolveReady = resolve));
  const done = run([RUN_SCRIPT], {
    env: { FIXTURE_URL: url },
    timeoutMs: 120_000,
    onOutput: (output, handle) => {
      child = handle;
      const match = /^READY (\{.*\})$/m.exec(output);
      if (match) resolveReady(JSON.parse(match[1]!));
    },
  });
  const started = await Promise.race([ready, done.then((result) => Promise.reject(new Error(`the run ended before it was ready:\n${result.output}`)))]);
  return { ...started, kill: (signal) => child!.kill(signal), done };
}

async function makeTemplate(name: string, usedDaysAgo: number | undefined): Promise<void> {
  await sql(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  await sql(`ALTER DATABASE ${pg.escapeIdentifier(name)} IS_TEMPLATE true`);
  if (usedDaysAgo !== undefined) {
    const record = JSON.stringify({ 'e2e-migrations': 1, kind: 'template', usedAt: new Date(Date.now() - usedDaysAgo * DAY_MS).toISOString() });
    await sql(`COMMENT ON DATABASE ${pg.escapeIdentifier(name)} IS ${pg.escapeLiteral(record)}`);
  }
}

const fakeTemplate = () => `e2e_tpl_${randomBytes(8).toString('hex')}`;

describe('housekeeping of isolation databases', () => {
  test("a killed run's clones are stale in status and pruned by the next run (a real Vitest); a live run's are kept", { timeout: 240_000 }, async () => {
    const url = await newDatabase();
    const killed = await startRun(url);
    const live = await startRun(url);
    try {
      await killedAndLive(url, killed, live);
    } finally {
      killed.kill('SIGKILL'); // both ended already unless an assertion failed
      live.kill('SIGKILL');
    }
  });

  async function killedAndLive(url: string, killed: Run, live: Run): Promise<void> {
    killed.kill('SIGKILL');
    expect((await killed.done).signal).toBe('SIGKILL');
    const left = await names(killed.prefix);
    expect(left).toContain(killed.clone);
    expect(left).toHaveLength(2); // its file's clone and the one prepared ahead
    const liveBefore = await names(live.prefix);

    // status: text and --json list them, judged
    const flags = ['--url', url, '--tables', 'audit_events', '--months-back', '0', '--months-ahead', '1'];
    const status = await cli('status', ...flags, '--json');
    expect(status.code, status.stderr).toBe(0);
    const listed = JSON.parse(status.stdout).isolation as { name: string; kind: string; state: string; runId?: string; ageMs?: number }[];
    const template = killed.prefix.slice(0, -8);
    expect(listed.find((d) => d.name === template)).toMatchObject({ kind: 'template', state: 'current' });
    expect(listed.filter((d) => d.name.startsWith(killed.prefix)).map((d) => d.state)).toEqual(left.map(() => 'stale'));
    expect(listed.filter((d) => d.name.startsWith(live.prefix)).map((d) => d.state)).toEqual(liveBefore.map(() => 'live'));
    expect(listed.find((d) => d.name === live.clone)).toMatchObject({ kind: 'clone', runId: live.prefix.slice(-7, -1) });
    expect(listed.every((d) => typeof d.ageMs === 'number' && d.ageMs >= 0)).toBe(true);
    const text = await cli('status', ...flags);
    expect(text.stdout).toContain(`isolation (isolate: 'file'): 1 template, ${left.length + liveBefore.length} clones on the server:`);
    expect(text.stdout).toMatch(new RegExp(`${template}\\s+template\\s+current\\s+used \\d+ min ago`));
    expect(text.stdout).toMatch(new RegExp(`${killed.clone}\\s+clone\\s+stale\\s+made \\d+ min ago\\s+pid \\d+ on .+ has ended`));
    expect(text.stdout).toMatch(new RegExp(`${live.clone}\\s+clone\\s+live\\s+made \\d+ min ago\\s+pid \\d+ on .+ is running`));

    const next = await vitest('vitest-project', ['--config', 'vitest.isolate.config.ts'], { env: { FIXTURE_URL: url } });
    expect(next.code, next.output).toBe(0);
    expect(next.output).toMatch(new RegExp(`provide\\s+ok .*; pruned ${left.length} clones of ended runs\\n`));
    expect(await names(killed.prefix)).toEqual([]);
    expect(await names(live.prefix)).toEqual(liveBefore);
    expect(await names(template)).toContain(template); // of other migrations than the next run's, but used lately

    live.kill('SIGTERM');
    expect((await live.done).code).toBe(143);
    expect(await names(live.prefix)).toEqual([]);
  }

  test('templates of other migrations unused for a week are pruned, unless in use; the current one never; one without a record is stamped', async () => {
    const url = await newDatabase();
    const session = await startSession({ url, ...BLOCK, logger: false });
    const current = await ensureTemplate(session).finally(() => session.close());
    const old = fakeTemplate();
    const locked = fakeTemplate();
    const recent = fakeTemplate();
    const unrecorded = fakeTemplate();
    await makeTemplate(old, 8);
    await makeTemplate(locked, 30);
    await makeTemplate(recent, 2);
    await makeTemplate(unrecorded, undefined);
    const record = JSON.stringify({ 'e2e-migrations': 1, kind: 'template', usedAt: new Date(Date.now() - 90 * DAY_MS).toISOString() });
    await sql(`COMMENT ON DATABASE ${pg.escapeIdentifier(current.name)} IS ${pg.escapeLiteral(record)}`);

    // Another run holds `locked`'s lock, from another database of the server: advisory locks are per database.
    const holder = new pg.Client({ ...admin, database: 'template1' });
    await holder.connect();
    const client = new pg.Client({ ...admin, database: new URL(url).pathname.slice(1) });
    await client.connect();
    try {
      await holder.query('select pg_advisory_lock_shared(hashtextextended($1, 0))', [templateLockKey(locked)]);
      const first = await pruneIsolation(client, { current: current.name });
      expect(first.templates).toEqual([old]);
      expect(first.stamped).toContain(unrecorded);
      expect(first.stamped).not.toContain(current.name); // recorded when built
      expect(first.failures).toEqual([]);
      expect(await names(old)).toEqual([]);
      for (const kept of [current.name, locked, recent, unrecorded]) expect(await names(kept)).toContain(kept); // (the current one's spares start with its name too)
      const [stamp] = await sql<{ c: string }>("select shobj_description(oid, 'pg_database') as c from pg_database where datname = $1", [unrecorded]);
      expect(Date.now() - Date.parse((parseRecord(stamp!.c) as { usedAt: string }).usedAt)).toBeLessThan(DAY_MS);

      await holder.query('select pg_advisory_unlock_shared(hashtextextended($1, 0))', [templateLockKey(locked)]);
      const second = await pruneIsolation(client, { current: current.name });
      expect(second.templates).toEqual([locked]);
      expect(await names(locked)).toEqual([]);
      expect(await names(current.name)).toContain(current.name);
    } finally {
      await holder.end();
      await client.end();
      for (const name of [recent, unrecorded]) {
        await sql(`ALTER DATABASE ${pg.escapeIdentifier(name)} IS_TEMPLATE false`);
        await sql(`DROP DATABASE ${pg.escapeIdentifier(name)}`);
      }
    }
  });
});
