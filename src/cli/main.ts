import { E2eMigrationsError } from '../errors/errors.ts';
import { redact } from '../report/redact.ts';
import { helpText } from './help.ts';
import { jsonDocument } from './json-output.ts';
import { COMMANDS, parseCli, type CliInvocation } from './parse-cli.ts';

/**
 * Runs the CLI and resolves to its exit code; never calls process.exit itself. Each command
 * imports what it needs when it runs: `--help` loads no driver, `list` no database, and the
 * URL and embedded targets never load client-node. With `--json`, every outcome — a result,
 * an error, a usage error, an interrupt — is one document on stdout (json-output.ts).
 */
export async function main(argv: readonly string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process): Promise<number> {
  let invocation: CliInvocation | undefined;
  // A usage error comes before the flags are known: look for --json and the command ourselves.
  const wantsJson = () => invocation?.json ?? argv.includes('--json');
  const commandName = () => invocation?.command ?? argv.find((word) => (COMMANDS as readonly string[]).includes(word) || word === 'help') ?? null;
  let printed = false;
  // SIGINT/SIGTERM end the process from the teardown handler (exit 130/143), past our return:
  // the document is written then, synchronously (stdout is a pipe or a file).
  const onExit = (code: number) => {
    if (printed || !wantsJson()) return;
    const signal = code === 130 ? 'SIGINT' : code === 143 ? 'SIGTERM' : `exit code ${code}`;
    const error = Object.assign(new Error(`interrupted by ${signal}; what the run had opened was torn down`), { name: 'Interrupted' });
    io.stdout.write(jsonDocument({ command: commandName(), exitCode: code, error }));
  };
  process.once('exit', onExit);
  try {
    invocation = parseCli(argv);
    const { command, config, json, quiet, sql } = invocation;
    /** The command's one output: its result as JSON, or the text for people. */
    const print = (result: object, human: string, exitCode = 0): number => {
      printed = true;
      io.stdout.write(json ? jsonDocument({ command, exitCode, result }, secretsOf(invocation)) : human);
      return exitCode;
    };
    const run = { ...config, logger: quiet ? (false as const) : io.stderr };
    const options = { source: 'command line', interruptible: true, ...(invocation.credentialSources ? { credentialSources: invocation.credentialSources } : {}) };
    /** `plan` / `apply --dry-run` / `list --tables`: what would run; with a URL or Kind, what is applied. */
    const plan = async (withDatabase: boolean): Promise<number> => {
      const { planMigrations } = await import('../api/plan-migrations.ts');
      const { formatPlan } = await import('./format-plan.ts');
      // `list --tables` never connects: only the selection and the migrations directory count.
      const input = withDatabase ? run : { ...(config.tables ? { tables: config.tables } : {}), ...(config.migrations ? { migrations: config.migrations } : {}), logger: run.logger };
      const result = await planMigrations(input, { ...options, sql });
      return print(result, formatPlan(result));
    };
    // Reading or rolling back a server that was started empty for this command tells nothing.
    const existing = { ...options, targets: { allowed: ['url', 'kind'] as const, why: `${command} needs a database to look at: give --url, or --namespace for Kind` } };
    switch (command) {
      case 'help':
        return print({ ...(invocation.helpFor ? { helpFor: invocation.helpFor } : {}), text: helpText(invocation.helpFor) }, helpText(invocation.helpFor));
      case 'list': {
        if (config.tables !== undefined && config.tables !== 'all') return await plan(false);
        const { availableMigrations } = await import('../api/available-migrations.ts');
        const migrations = await availableMigrations(config.migrations);
        return print(
          { migrations },
          migrations.map((m) => `${m.name.padEnd(40)} ${m.tables.join(', ') || '-'}${m.dependsOn.length ? `   (after ${m.dependsOn.join(', ')})` : ''}\n`).join(''),
        );
      }
      case 'plan':
        return await plan(true);
      case 'apply': {
        if (invocation.dryRun) return await plan(true);
        const { applyMigrations } = await import('../api/apply-migrations.ts');
        const result = await applyMigrations(run, options);
        return print(result, `applied ${result.applied.length}, already applied ${result.alreadyApplied.length}; tables: ${result.tables.join(', ')}\n`);
      }
      case 'verify': {
        const { verifyMigrations } = await import('../api/verify-migrations.ts');
        await verifyMigrations(run, existing);
        return print({}, 'verified\n');
      }
      case 'status': {
        const [{ statusReport }, { formatStatus }] = await Promise.all([import('../api/migration-status.ts'), import('./format-status.ts')]);
        const report = await statusReport(run, existing);
        return print(
          report,
          formatStatus(report),
          // A migration edited after it was applied: apply would refuse to run.
          report.migrations.some((s) => s.checksum === 'changed') ? 1 : 0,
        );
      }
      case 'down': {
        const { rollbackMigrations } = await import('../api/rollback-migrations.ts');
        const names = await rollbackMigrations({ ...run, ...(invocation.to !== undefined ? { to: invocation.to } : {}) }, existing);
        return print({ rolledBack: names }, `rolled back ${names.length}${names.length ? `: ${names.join(', ')}` : ''}\n`);
      }
      case 'forward': {
        const { runForward } = await import('./run-forward.ts');
        return await runForward(run, { print: (result, human) => print(result, human) });
      }
      case 'stop': {
        const { stopReusedServers } = await import('../api/stop-reused-servers.ts');
        const stopped = await stopReusedServers(quiet ? {} : { onWait: (what) => io.stderr.write(`stop     waiting for ${what}\n`) });
        const lines = stopped.map((s) => `${s.outcome === 'stopped' ? 'stopped' : 'was already gone:'} ${s.description} (kept by pid ${s.pid} since ${s.startedAt})\n`);
        return print({ stopped }, lines.join('') || 'no reused embedded Postgres was running\n');
      }
      case 'doctor': {
        const { doctor } = await import('../api/doctor.ts');
        const { formatDoctorReport } = await import('../doctor/doctor-report.ts');
        const report = await doctor(run, options);
        return print(report, formatDoctorReport(report), report.ok ? 0 : 1);
      }
    }
  } catch (error) {
    const secrets = secretsOf(invocation);
    const known = error instanceof E2eMigrationsError;
    const exitCode = known ? error.exitCode : 1;
    // One document: a failure after the result was printed (forward's teardown) is told on stderr only.
    if (wantsJson() && !printed) {
      printed = true;
      io.stdout.write(jsonDocument({ command: commandName(), exitCode, error }, secrets));
    }
    io.stderr.write(`${redact(describe(error, known), secrets)}\n`);
    return exitCode;
  } finally {
    process.off('exit', onExit);
  }
}

/** The passwords the command line carries (--password, E2E_MIGRATIONS_PASSWORD, the URL's), for redaction. */
function secretsOf(invocation: CliInvocation | undefined): string[] {
  const secrets = invocation?.config.password ? [invocation.config.password] : [];
  // A URL the WHATWG parser cannot read is left to redact(), which masks any postgres:// URL's password.
  const url = invocation?.config.url;
  const password = url && URL.canParse(url) ? new URL(url).password : '';
  // As people typed it: percent-decoded, unless that would fail (redact() also masks the encoded form).
  if (password) secrets.push(/%(?![0-9a-f]{2})/i.test(password) ? password : decodeURIComponent(password));
  return secrets;
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
