import { availableMigrations } from '../api/available-migrations.ts';
import { applyMigrations } from '../api/apply-migrations.ts';
import { migrationStatus } from '../api/migration-status.ts';
import { rollbackMigrations } from '../api/rollback-migrations.ts';
import { verifyMigrations } from '../api/verify-migrations.ts';
import { E2eMigrationsError } from '../errors/errors.ts';
import { redact } from '../report/redact.ts';
import { helpText } from './help.ts';
import { parseCli, type CliInvocation } from './parse-cli.ts';
import { runForward } from './run-forward.ts';

/** Runs the CLI and resolves to its exit code; never calls process.exit itself. */
export async function main(argv: readonly string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process): Promise<number> {
  let invocation: CliInvocation | undefined;
  try {
    invocation = parseCli(argv);
    const { command, config, json, quiet } = invocation;
    const print = (value: unknown, human: string) => io.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : human);
    const run = { ...config, logger: quiet ? (false as const) : io.stderr };
    switch (command) {
      case 'help':
        io.stdout.write(helpText(invocation.helpFor));
        return 0;
      case 'list': {
        const migrations = await availableMigrations(config.migrations);
        print(
          { ok: true, migrations },
          migrations.map((m) => `${m.name.padEnd(40)} ${m.tables.join(', ') || '-'}${m.dependsOn.length ? `   (after ${m.dependsOn.join(', ')})` : ''}\n`).join(''),
        );
        return 0;
      }
      case 'apply': {
        const result = await applyMigrations(run);
        print({ ok: true, ...result }, `applied ${result.applied.length}, already applied ${result.alreadyApplied.length}; tables: ${result.tables.join(', ')}\n`);
        return 0;
      }
      case 'verify':
        await verifyMigrations(run);
        print({ ok: true }, 'verified\n');
        return 0;
      case 'status': {
        const statuses = await migrationStatus(run);
        print(
          { ok: true, migrations: statuses },
          statuses.map((s) => `${s.name.padEnd(40)} ${s.applied ? `applied ${s.appliedAt}` : 'pending'}${s.checksum === 'changed' ? '  CHANGED SINCE APPLIED' : ''}\n`).join(''),
        );
        return statuses.some((s) => s.checksum === 'changed') ? 1 : 0;
      }
      case 'down': {
        const names = await rollbackMigrations({ ...run, ...(invocation.to !== undefined ? { to: invocation.to } : {}) });
        print({ ok: true, rolledBack: names }, `rolled back ${names.length}${names.length ? `: ${names.join(', ')}` : ''}\n`);
        return 0;
      }
      case 'forward':
        return await runForward(run, io);
    }
  } catch (error) {
    const secrets = invocation?.config.password ? [invocation.config.password] : [];
    const known = error instanceof E2eMigrationsError;
    const exitCode = known ? error.exitCode : 1;
    if (invocation?.json) {
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
