import { writeFile } from 'node:fs/promises';
import type { MigrateResult } from '../migrate/migrate.ts';
import type { TemplateResult } from '../provide/template.ts';
import { redact } from '../report/redact.ts';
import type { StageRecord } from '../report/reporter.ts';
import type { StartedTarget } from '../target/target.ts';

/** The machine-readable account of a run that examples/run-all.ts aggregates. No secrets in it. */
export interface RunnerReport {
  readonly runner: 'vitest' | 'jest';
  readonly source: string;
  readonly phase: 'setup' | 'teardown' | 'failed';
  readonly target?: string;
  readonly description?: string;
  readonly database?: string;
  readonly tables: readonly string[];
  readonly applied: readonly string[];
  readonly alreadyApplied: readonly string[];
  readonly template?: { readonly name: string; readonly built: boolean };
  readonly stages: readonly StageRecord[];
  readonly error?: { readonly name: string; readonly stage?: string; readonly message: string };
}

export interface RunnerReportInput {
  readonly runner: RunnerReport['runner'];
  readonly source: string;
  readonly phase: RunnerReport['phase'];
  readonly target?: StartedTarget;
  readonly migrations?: MigrateResult;
  readonly template?: TemplateResult | undefined;
  readonly records: readonly StageRecord[];
  readonly error?: unknown;
}

/** Writes the report (E2E_MIGRATIONS_REPORT_FILE) with every secret redacted. */
export async function writeRunnerReport(file: string, input: RunnerReportInput, secrets: readonly string[]): Promise<void> {
  const { target, migrations, error } = input;
  const report: RunnerReport = {
    runner: input.runner,
    source: input.source,
    phase: input.phase,
    ...(target ? { target: target.kind, description: target.description, database: target.connection.database } : {}),
    tables: migrations?.tables ?? [],
    applied: migrations?.applied ?? [],
    alreadyApplied: migrations?.alreadyApplied ?? [],
    ...(input.template ? { template: { name: input.template.name, built: input.template.built } } : {}),
    stages: input.records,
    ...(error ? { error: { name: (error as Error).name ?? 'Error', stage: (error as { stage?: string }).stage, message: (error as Error).message ?? String(error) } } : {}),
  };
  // Owner-only: a report names hosts and databases, and nothing of ours is for others to read.
  await writeFile(file, `${redact(JSON.stringify(report, null, 2), secrets)}\n`, { mode: 0o600 });
}
