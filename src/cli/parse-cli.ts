import { parseArgs } from 'node:util';
import type { MigrationConfigInput } from '../config/config-schema.ts';
import { ConfigError } from '../errors/errors.ts';

export const COMMANDS = ['list', 'plan', 'apply', 'verify', 'status', 'down', 'forward', 'doctor', 'stop'] as const;
export type Command = (typeof COMMANDS)[number];

export interface CliInvocation {
  readonly command: Command | 'help';
  /** The command whose help was asked for. */
  readonly helpFor?: Command;
  readonly config: MigrationConfigInput;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly to?: string;
  /** `apply --dry-run`: plan instead of applying. */
  readonly dryRun?: boolean;
  /** `plan --sql`: show the SQL each migration sends. */
  readonly sql?: boolean;
  /** Names of the flags or variables credentials came from, for messages. */
  readonly credentialSources?: { readonly user?: string; readonly password?: string; readonly database?: string };
}

const OPTIONS = {
  tables: { type: 'string' },
  all: { type: 'boolean' },
  url: { type: 'string' },
  migrations: { type: 'string' },
  database: { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  to: { type: 'string' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  'kind-cluster': { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  service: { type: 'string' },
  secret: { type: 'string' },
  port: { type: 'string' },
  'ready-timeout': { type: 'string' },
  transport: { type: 'string' },
  'node-address': { type: 'string' },
  'months-back': { type: 'string' },
  'months-ahead': { type: 'string' },
  'no-verify': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  sql: { type: 'boolean' },
  'lock-timeout': { type: 'string' },
  'allow-missing': { type: 'boolean' },
  reuse: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses argv (without node and script) into a command and a `migrations` block. */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliInvocation {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new ConfigError(`${(error as Error).message.replace(/\. To specify a positional.*$/s, '')}; see e2e-migrations --help`, {}, { cause: error });
  }
  const { values, positionals } = parsed;
  const [word, ...extra] = positionals;
  if (word === undefined || word === 'help') {
    const helpFor = extra[0] as Command | undefined;
    return { command: 'help', ...(helpFor && COMMANDS.includes(helpFor) ? { helpFor } : {}), config: {}, json: values.json ?? false, quiet: false };
  }
  if (!COMMANDS.includes(word as Command)) {
    throw new ConfigError(`unknown command "${word}"; commands are: ${COMMANDS.join(', ')}`, { key: 'command' });
  }
  const command = word as Command;
  if (values.help) return { command: 'help', helpFor: command, config: {}, json: values.json ?? false, quiet: false };
  if (extra.length > 0) throw new ConfigError(`unexpected argument "${extra[0]}" after "${command}"`, {});
  if (values.tables !== undefined && values.all) throw new ConfigError('give either --tables or --all, not both', { key: 'tables' });

  const config: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) config[key] = value;
  };
  set('url', values.url);
  set('migrations', values.migrations);
  set('database', values.database);
  set('user', values.user);
  // A password on the command line shows in `ps`; the environment variable is the better place.
  set('password', values.password ?? env.E2E_MIGRATIONS_PASSWORD);
  set('kubeconfig', values.kubeconfig);
  set('context', values.context);
  set('kindCluster', values['kind-cluster']);
  set('namespace', values.namespace);
  set('service', values.service);
  set('secret', values.secret);
  set('port', integerFlag('--port', values.port));
  set('readyTimeoutMs', integerFlag('--ready-timeout', values['ready-timeout']));
  set('transport', values.transport);
  set('nodeAddress', values['node-address']);
  set('lockTimeoutMs', integerFlag('--lock-timeout', values['lock-timeout']));
  if (values['months-back'] !== undefined || values['months-ahead'] !== undefined) {
    config.partitions = {
      ...(values['months-back'] !== undefined ? { monthsBack: integerFlag('--months-back', values['months-back']) } : {}),
      ...(values['months-ahead'] !== undefined ? { monthsAhead: integerFlag('--months-ahead', values['months-ahead']) } : {}),
    };
  }
  if (values['no-verify']) config.verify = false;
  if (values['allow-missing']) config.allowMissing = true;
  if (values.reuse) config.reuse = true;
  if (values.all) config.tables = 'all';
  else if (values.tables !== undefined) config.tables = values.tables.split(',').map((t) => t.trim()).filter(Boolean);
  return {
    command,
    config: config as MigrationConfigInput,
    json: values.json ?? false,
    quiet: values.quiet ?? false,
    ...(values.to !== undefined ? { to: values.to } : {}),
    ...(values['dry-run'] ? { dryRun: true } : {}),
    ...(values.sql ? { sql: true } : {}),
    credentialSources: { user: '--user', database: '--database', password: values.password !== undefined ? '--password' : 'E2E_MIGRATIONS_PASSWORD' },
  };
}

function integerFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new ConfigError(`${flag} must be a whole number, got "${value}"`, { key: flag });
  return Number(value);
}
