import { E2eMigrationsError } from '../errors/errors.ts';
import { redact } from '../report/redact.ts';
import { helpText } from './help.ts';
import { parseCli, type CliInvocation } from './parse-cli.ts';

/**
 * Runs the CLI and resolves to its exit code; never calls process.exit itself. Each command
 * imports what it needs when it runs: `--help` loads no driver, `list` no database, and the
 * URL and embedded targets never load client-node.
 */
export async function main(argv: readonly string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process): Promise<number> {
  let invocation: CliInvocation | undefined;
  try {
    invocation = parseCli(argv);
    const { command, config, json, quiet, sql } = invocation;
    const print = (value: unknown, human: string) => io.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : human);
    const run = { ...config, logger: quiet ? (false as const) : io.stderr };
    const options = { source: 'command line', interruptible: true, ...(invocation.credentialSources ? { credentialSources: invocation.credentialSources } : {}) };
    /** `plan` / `apply --dry-run` / `list --tables`: what would run; with a URL or Kind, what is applied. */
    const plan = async (withDatabase: boolean): Promise<number> => {
      const { planMigrations } = await import('../api/plan-migrations.ts');
      const { formatPlan } = await import('./format-plan.ts');
      // `list --tables` never connects: only the selection and the migrations directory count.
      const input = withDatabase ? run : { ...(config.tables ? { tables: config.tables } : {}), ...(config.migrations ? { migrations: config.migrations } : {}), logger: run.logger };
      const result = await planMigrations(input, { ...options, sql });
      print({ ok: true, ...result }, formatPlan(result));
      return 0;
    };
    // Reading or rolling back a server that was started empty for this command tells nothing.
    const existing = { ...options, targets: { allowed: ['url', 'kind'] as const, why: `${command} needs a database to look at: give --url, or --namespace for Kind` } };
    switch (command) {
      case 'help':
        io.stdout.write(helpText(invocation.helpFor));
        return 0;
      case 'list': {
        if (config.tables !== undefined && config.tables !== 'all') return await plan(false);
        const { availableMigrations } = await import('../api/available-migrations.ts');
        const migrations = await availableMigrations(config.migrations);
        print(
          { ok: true, migrations },
          migrations.map((m) => `${m.name.padEnd(40)} ${m.tables.join(', ') || '-'}${m.dependsOn.length ? `   (after ${m.dependsOn.join(', ')})` : ''}\n`).join(''),
        );
        return 0;
      }
      case 'plan':
        return await plan(true);
      case 'apply': {
        if (invocation.dryRun) return await plan(true);
        const { applyMigrations } = await import('../api/apply-migrations.ts');
        const result = await applyMigrations(run, options);
        print({ ok: true, ...result }, `applied ${result.applied.length}, already applied ${result.alreadyApplied.length}; tables: ${result.tables.join(', ')}\n`);
        return 0;
      }
      case 'verify': {
        const { verifyMigrations } = await import('../api/verify-migrations.ts');
        await verifyMigrations(run, existing);
        print({ ok: true }, 'verified\n');
        return 0;
      }
      case 'status': {
        const { migrationStatus } = await import('../api/migration-status.ts');
        const statuses = await migrationStatus(run, existing);
        print(
          { ok: true, migrations: statuses },
          statuses.map((s) => `${s.name.padEnd(40)} ${s.applied ? `applied ${s.appliedAt}` : 'pending'}${s.checksum === 'changed' ? '  CHANGED SINCE APPLIED' : ''}\n`).join(''),
        );
        return statuses.some((s) => s.checksum === 'changed') ? 1 : 0;
      }
      case 'down': {
        const { rollbackMigrations } = await import('../api/rollback-migrations.ts');
        const names = await rollbackMigrations({ ...run, ...(invocation.to !== undefined ? { to: invocation.to } : {}) }, existing);
        print({ ok: true, rolledBack: names }, `rolled back ${names.length}${names.length ? `: ${names.join(', ')}` : ''}\n`);
        return 0;
      }
      case 'forward': {
        const { runForward } = await import('./run-forward.ts');
        return await runForward(run, io, { json });
      }
      case 'doctor': {
        const { doctor } = await import('../api/doctor.ts');
        const { formatDoctorReport } = await import('../doctor/doctor-report.ts');
        const report = await doctor(run, options);
        print(report, formatDoctorReport(report));
        return report.ok ? 0 : 1;
      }
    }
  } catch (error) {
    const secrets = invocation?.config.password ? [invocation.config.password] : [];
    const known = error instanceof E2eMigrationsError;
    const exitCode = known ? error.exitCode : 1;
    // A usage error comes before the flags are known: look for --json ourselves.
    if (invocation?.json ?? argv.includes('--json')) {
      const e = error as E2eMigrationsError & { details?: unknown; problems?: unknown };
      io.stdout.write(
        `${redact(JSON.stringify({ ok: false, error: { name: e.name, message: e.message, stage: e.stage, details: e.details, problems: e.problems } }, null, 2), secrets)}\n`,
      );
    }
    io.stderr.write(`${redact(describe(error, known), secrets)}\n`);
    return exitCode;
  }
}

function describe(error: unknown, known: boolean): string {
  if (!(error instanceof Error)) return `e2e-migrations: ${String(error)}`;
  const stage = (error as { stage?: string }).stage;
  let text = `e2e-migrations: ${stage ? `${stage} failed: ` : ''}${error.message}`;
  // Our errors already say what matters; for anything else show the cause chain.
  if (!known || process.env.E2E_MIGRATIONS_DEBUG) {
    for (let cause = error.cause; cause instanceof Error; cause = cause.cause) text += `\n  caused by: ${cause.message}`;
  }
  return text;
}
