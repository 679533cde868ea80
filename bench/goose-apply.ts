/**
 * What applying a goose directory costs next to running its SQL with psql: a 17-file history
 * of our own, shaped like the DS one (one StatementBegin block creating tables, a partitioned
 * audit_events with its months, functions, triggers and views; then files that add columns and
 * indexes, drop a default partition, rename, drop with CASCADE, and build an index
 * CONCURRENTLY outside a transaction), applied to a fresh database each time:
 *
 *  - `e2e-migrations apply --no-verify` as a process (parse, lock, each file in its transaction
 *    with both ledgers and the relations record), run from src/ as a checkout runs it; and
 *    again once everything is applied, which is the cost of the process itself;
 *  - the same, in process through the API (no Node start-up);
 *  - `psql -f` of the same statements, each transactional file wrapped in BEGIN/COMMIT, as a
 *    process (no ledger at all).
 *
 * Median of N runs (default 5). Needs `psql` on the PATH.
 *
 *   node bench/goose-apply.ts [--runs 5]
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { applyMigrations } from '../src/api/apply-migrations.ts';
import { parseGooseFile } from '../src/migrate/goose/goose-parser.ts';
import { formatConnectionString } from '../src/postgres/connection-string.ts';
import { startEmbeddedTarget } from '../src/target/embedded/embedded-target.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const RUNS = Number(args.runs);
const BIN = join(import.meta.dirname, '..', 'src', 'cli', 'bin.ts');

/** The history: file name → text. */
function history(): Record<string, string> {
  const file = (up: string, down: string, noTransaction = false) => `${noTransaction ? '-- +goose NO TRANSACTION\n' : ''}-- +goose Up\n${up}\n\n-- +goose Down\n${down}\n`;
  const months = Array.from({ length: 24 }, (_, i) => {
    const start = new Date(Date.UTC(2026, i, 1));
    const end = new Date(Date.UTC(2026, i + 1, 1));
    const name = `audit_events_${start.getUTCFullYear()}_${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
    return `CREATE TABLE ${name} PARTITION OF audit_events FOR VALUES FROM ('${start.toISOString().slice(0, 10)}') TO ('${end.toISOString().slice(0, 10)}');`;
  }).join('\n');
  const tables = Array.from(
    { length: 8 },
    (_, i) => `CREATE TABLE entity_${i} (
    id bigserial PRIMARY KEY,
    name varchar(255) NOT NULL,
    namespace varchar(255) NOT NULL,
    status text NOT NULL DEFAULT 'Active' CHECK (status IN ('Active', 'Disabled')),
    labels jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()${i > 0 ? `,\n    parent_id bigint REFERENCES entity_${i - 1} (id) ON DELETE CASCADE` : ''}
);
CREATE INDEX idx_entity_${i}_ns ON entity_${i} (namespace, name);
CREATE TRIGGER trg_entity_${i}_updated BEFORE UPDATE ON entity_${i} FOR EACH ROW EXECUTE FUNCTION touch_updated_at();`,
  ).join('\n');
  return {
    '001_schema.sql': file(
      `-- +goose StatementBegin
CREATE FUNCTION touch_updated_at() RETURNS trigger AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
${tables}
CREATE TABLE audit_events (
    event_id uuid NOT NULL DEFAULT gen_random_uuid(),
    event_date date NOT NULL,
    event_timestamp timestamptz NOT NULL DEFAULT now(),
    event_type varchar(100) NOT NULL,
    cluster_name varchar(255),
    event_data jsonb NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (event_id, event_date)
) PARTITION BY RANGE (event_date);
CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;
${months}
CREATE INDEX idx_audit_events_type ON audit_events (event_type, event_timestamp);
CREATE VIEW entity_summary AS SELECT namespace, count(*) AS n FROM entity_0 GROUP BY namespace;
CREATE TABLE traces (id bigserial PRIMARY KEY, entity_id bigint REFERENCES entity_1 (id), at timestamptz NOT NULL);
CREATE VIEW trace_view AS SELECT t.id, e.name FROM traces t JOIN entity_1 e ON e.id = t.entity_id;
-- +goose StatementEnd`,
      'DROP VIEW trace_view;\nDROP TABLE traces;\nDROP VIEW entity_summary;\nDROP TABLE audit_events;',
    ),
    '002_add_service_account.sql': file('ALTER TABLE entity_2 ADD COLUMN service_account_name varchar(255);', 'ALTER TABLE entity_2 DROP COLUMN service_account_name;'),
    '003_capitalize_status.sql': file("UPDATE entity_3 SET status = initcap(status);\nALTER TABLE entity_3 ALTER COLUMN status SET DEFAULT 'Active';", 'SELECT 1;'),
    '004_add_hash_index.sql': file('CREATE INDEX idx_entity_4_labels ON entity_4 USING gin (labels);', 'DROP INDEX idx_entity_4_labels;'),
    '005_add_correlation_index.sql': file('CREATE INDEX idx_audit_events_cluster ON audit_events (cluster_name, event_date);', 'DROP INDEX idx_audit_events_cluster;'),
    '006_add_channel.sql': file(
      "ALTER TABLE entity_5 ADD COLUMN channel text NOT NULL DEFAULT 'slack';\nALTER TABLE entity_5 ADD CONSTRAINT entity_5_channel CHECK (channel IN ('slack', 'teams'));",
      'ALTER TABLE entity_5 DROP COLUMN channel;',
    ),
    '007_partition_cleanup.sql': file(
      `DROP TABLE IF EXISTS audit_events_default CASCADE;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION set_event_date() RETURNS trigger AS $$
BEGIN
    NEW.event_date := (NEW.event_timestamp AT TIME ZONE 'UTC')::date;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER trg_audit_events_date BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION set_event_date();`,
      'DROP TRIGGER trg_audit_events_date ON audit_events;\nCREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;',
    ),
    '008_retention.sql': file(
      'CREATE TABLE retention_policies (event_type varchar(100) PRIMARY KEY, days int NOT NULL DEFAULT 2555);\nALTER TABLE audit_events ADD COLUMN retention_days int NOT NULL DEFAULT 2555;',
      'ALTER TABLE audit_events DROP COLUMN retention_days;\nDROP TABLE retention_policies;',
    ),
    '009_drop_traces.sql': file('DROP TABLE traces CASCADE;', 'CREATE TABLE traces (id bigserial PRIMARY KEY, entity_id bigint, at timestamptz NOT NULL);'),
    '010_retention_default.sql': file('ALTER TABLE retention_policies ALTER COLUMN days SET DEFAULT 365;', 'ALTER TABLE retention_policies ALTER COLUMN days SET DEFAULT 2555;'),
    '011_timestamps.sql': file('ALTER TABLE entity_6 ALTER COLUMN created_at TYPE timestamptz USING created_at;', 'SELECT 1;'),
    '012_immutability.sql': file(
      `-- +goose StatementBegin
CREATE FUNCTION prevent_tampering() RETURNS trigger AS $$
BEGIN
    IF OLD.event_data IS DISTINCT FROM NEW.event_data THEN
        RAISE EXCEPTION 'event_data cannot be modified' USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER trg_audit_events_immutable BEFORE UPDATE ON audit_events FOR EACH ROW EXECUTE FUNCTION prevent_tampering();`,
      'DROP TRIGGER trg_audit_events_immutable ON audit_events;\nDROP FUNCTION prevent_tampering();',
    ),
    '013_hash_algorithm.sql': file("ALTER TABLE audit_events ADD COLUMN hash_algorithm text NOT NULL DEFAULT 'sha256';", 'ALTER TABLE audit_events DROP COLUMN hash_algorithm;'),
    '014_rename_cluster.sql': file('ALTER TABLE audit_events RENAME COLUMN cluster_name TO cluster_id;', 'ALTER TABLE audit_events RENAME COLUMN cluster_id TO cluster_name;'),
    '015_drop_columns.sql': file('ALTER TABLE entity_7 DROP COLUMN labels;', "ALTER TABLE entity_7 ADD COLUMN labels jsonb NOT NULL DEFAULT '{}'::jsonb;"),
    '016_drop_tables.sql': file('DROP TABLE entity_7;\nDROP VIEW entity_summary;\nCREATE MATERIALIZED VIEW entity_summary AS SELECT namespace, count(*) AS n FROM entity_0 GROUP BY namespace;', 'DROP MATERIALIZED VIEW entity_summary;'),
    '017_name_index.sql': file('CREATE INDEX CONCURRENTLY idx_entity_6_name ON entity_6 (name);', 'DROP INDEX CONCURRENTLY idx_entity_6_name;', true),
  };
}

/** The same statements as one psql script: each transactional file in BEGIN/COMMIT. */
function psqlScript(files: Record<string, string>): string {
  return Object.entries(files)
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .map(([name, text]) => {
      const parsed = parseGooseFile(name, text);
      const body = parsed.up.join('\n');
      return parsed.transactional ? `BEGIN;\n${body}\nCOMMIT;\n` : `${body}\n`;
    })
    .join('');
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const files = history();
const directory = await mkdtemp(join(tmpdir(), 'goose-bench-'));
await Promise.all(Object.entries(files).map(([name, text]) => writeFile(join(directory, name), text)));
const script = join(directory, 'all.psql');
await writeFile(script, psqlScript(files));

const server = await startEmbeddedTarget({ user: 'postgres', password: 'bench', database: 'postgres' });
const admin = new pg.Client({ ...server.connection });
await admin.connect();
let database = 0;
const fresh = async (): Promise<string> => {
  const name = `goose_bench_${database++}`;
  await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
  return formatConnectionString({ ...server.connection, database: name });
};

const times = { cli: [] as number[], rerun: [] as number[], api: [] as number[], psql: [] as number[] };
try {
  for (let run = 0; run < RUNS; run++) {
    let url = await fresh();
    let started = performance.now();
    const cli = spawnSync(process.execPath, [BIN, 'apply', '--url', url, '--migrations', directory, '--no-verify', '--quiet'], { encoding: 'utf8' });
    times.cli.push(performance.now() - started);
    if (cli.status !== 0) throw new Error(`e2e-migrations apply exited ${cli.status}: ${cli.stderr}`);
    // The same command with everything applied: what the process costs before applying anything.
    started = performance.now();
    const rerun = spawnSync(process.execPath, [BIN, 'apply', '--url', url, '--migrations', directory, '--no-verify', '--quiet'], { encoding: 'utf8' });
    times.rerun.push(performance.now() - started);
    if (rerun.status !== 0) throw new Error(`e2e-migrations apply (re-run) exited ${rerun.status}: ${rerun.stderr}`);

    url = await fresh();
    started = performance.now();
    const result = await applyMigrations({ url, migrations: directory, verify: false, logger: false });
    times.api.push(performance.now() - started);
    if (result.applied.length !== 17) throw new Error(`applied ${result.applied.length} of 17`);

    url = await fresh();
    const target = new URL(url);
    started = performance.now();
    const psql = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', target.href, '-f', script], { encoding: 'utf8', env: { ...process.env, PGSSLMODE: 'disable' } });
    times.psql.push(performance.now() - started);
    if (psql.status !== 0) throw new Error(`psql exited ${psql.status}: ${psql.stderr}`);
  }
  const { rows } = await admin.query<{ server_version: string }>('show server_version');
  console.log(`Postgres ${rows[0]!.server_version}, a 17-file goose history (${Object.values(files).reduce((n, text) => n + text.length, 0)} bytes), fresh database each run, median of ${RUNS}`);
  console.log(`e2e-migrations apply --no-verify (process):  ${median(times.cli).toFixed(0)} ms`);
  console.log(`  the same, everything already applied:      ${median(times.rerun).toFixed(0)} ms`);
  console.log(`applyMigrations, verify off (in process):   ${median(times.api).toFixed(0)} ms`);
  console.log(`psql -f, same statements (process):         ${median(times.psql).toFixed(0)} ms`);
} finally {
  await admin.end();
  await server.close();
  await rm(directory, { recursive: true, force: true });
}
