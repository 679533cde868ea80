import type * as z from 'zod';
import { ConfigError } from '../errors/errors.ts';
import { connectionInfo, mergeCredentials, parseConnectionString, type ConnectionInfo } from '../postgres/connection-string.ts';
import { migrationConfigSchema, type MigrationConfigInput } from './config-schema.ts';
import { DEFAULTS } from './defaults.ts';
import { parseHostPort, type HostPort } from './host-port.ts';

export type TargetKind = 'embedded' | 'url' | 'kind';

/** Kind: how Postgres is reached (see the `transport` key). */
export type KindTransport = 'auto' | 'nodeport' | 'port-forward';

/** What every target shares: what to migrate, how, and where the block came from. */
interface CommonConfig {
  /** Where the block came from (a config file, `command line`), named in errors. */
  readonly source: string;
  /** Tables (and views) the run needs; empty means all. */
  readonly tables: readonly string[];
  /** A migrations directory; undefined means the shipped DS schema. */
  readonly migrations: string | undefined;
  /** The window of monthly partitions, and tables beyond the migrations' own to roll them for. */
  readonly partitions: { readonly monthsBack: number; readonly monthsAhead: number; readonly tables: readonly string[] };
  /** goose directories: apply never-applied versions below the newest applied one. */
  readonly allowMissing: boolean;
  readonly verify: boolean;
  /** How long to wait for the migration lock another run holds. */
  readonly lockTimeoutMs: number;
  /** Test runners: a database per test file, cloned from a migrated template. */
  readonly isolate: 'file' | false;
}

/** A throwaway Postgres 16 started for the run. */
export interface EmbeddedConfig extends CommonConfig {
  readonly target: 'embedded';
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** Runners: share `database` with the run's other projects that say so (else one of its own). */
  readonly shareDatabase: boolean;
  /** Keep the server for the next run, and use the one a previous run kept (reused-server.ts). */
  readonly reuse: boolean;
  /** Why a `reuse: true` was turned off (`CI is set (CI=true)`), for the one line that says so. */
  readonly reuseIgnored?: string;
}

/** A Postgres someone else runs. */
export interface UrlConfig extends CommonConfig {
  readonly target: 'url';
  /** The URL as given (holds the password: never print it). */
  readonly url: string;
  readonly connection: ConnectionInfo;
}

/** Postgres in a Kind cluster, reached through the Service's pod. */
export interface KindConfig extends CommonConfig {
  readonly target: 'kind';
  readonly namespace: string;
  readonly service: string;
  readonly port: number;
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
  readonly kindCluster: string | undefined;
  readonly secret: string | undefined;
  readonly readyTimeoutMs: number;
  /** How to reach Postgres: the Service's NodePort, a port-forward, or the first that works. */
  readonly transport: KindTransport;
  /** Where this machine reaches the Service's NodePort, when the user knows (a Kind extraPortMappings host port). */
  readonly nodeAddress: HostPort | undefined;
  /** Explicit credentials only: they win over the Secret, which wins over DEFAULTS. */
  readonly credentials: { readonly user?: string; readonly password?: string; readonly database?: string };
}

/** A checked, complete, frozen configuration: the only thing code past an entry point sees. */
export type ResolvedConfig = EmbeddedConfig | UrlConfig | KindConfig;

export interface ResolveOptions {
  /** Names where the block came from, for messages. @default 'configuration' */
  readonly source?: string;
  /**
   * Replaces the block's target with this URL (E2E_MIGRATIONS_TARGET_URL): one server shared
   * by many suites, each keeping its tables, migrations and options.
   */
  readonly targetUrl?: { readonly url: string; readonly from: string };
  /** How to name credentials given apart from the URL in messages (e.g. `--password`). */
  readonly credentialSources?: { readonly user?: string; readonly password?: string; readonly database?: string };
  /** Where `CI` is read (a set `CI` turns `reuse` off). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Keys that only make sense for the Kind target. */
const KIND_KEYS = ['namespace', 'kubeconfig', 'context', 'kindCluster', 'secret', 'service', 'port', 'readyTimeoutMs', 'transport', 'nodeAddress'] as const;
/** Keys that say where Postgres is; a target URL override replaces all of them. */
const TARGET_KEYS = new Set<string>(['target', 'url', ...KIND_KEYS, 'user', 'password', 'database', 'shareDatabase', 'reuse']);

/**
 * Validates a `migrations` block (strictly: an unknown key is named), decides the target and
 * applies every default. Each entry point calls this once at its edge.
 */
export function resolveConfig(input: unknown, options: ResolveOptions = {}): ResolvedConfig {
  const source = options.source ?? 'configuration';
  const parsed = migrationConfigSchema.safeParse(input ?? {});
  if (!parsed.success) throw configError(parsed.error, source);
  let block: MigrationConfigInput = parsed.data;
  let where = source;
  if (options.targetUrl) {
    block = { ...Object.fromEntries(Object.entries(block).filter(([key]) => !TARGET_KEYS.has(key))), url: options.targetUrl.url };
    where = `${options.targetUrl.from} with ${source}`;
  }
  const fail = (key: string, message: string): never => {
    throw new ConfigError(`${where}: ${message}`, { key, file: source });
  };

  const kindKeys = KIND_KEYS.filter((key) => block[key] !== undefined);
  const target: TargetKind = block.target ?? (block.url ? 'url' : kindKeys.length > 0 ? 'kind' : 'embedded');
  if (target === 'url' && !block.url) fail('url', '"url" is required when "target" is "url"');
  if (target !== 'url' && block.url) fail('url', `"url" cannot be combined with target "${target}"`);
  if (target === 'kind' && !block.namespace) {
    // Say why it is Kind: a key the user took for a general one (`port`) made it so.
    const because = block.target ? '' : `; the target is Kind because ${kindKeys.map((k) => `"${k}"`).join(', ')} ${kindKeys.length === 1 ? 'is' : 'are'} set`;
    fail('namespace', `"namespace" is required for the Kind target (the namespace of the "${block.service ?? DEFAULTS.service}" Service)${because}`);
  }
  if (target !== 'kind' && kindKeys.length > 0) {
    fail(kindKeys[0]!, `${kindKeys.map((k) => `"${k}"`).join(', ')} only apply to the Kind target, but the target is "${target}" (add "namespace" for Kind)`);
  }
  if (target !== 'embedded' && block.shareDatabase !== undefined) {
    fail('shareDatabase', `"shareDatabase" only applies to the embedded target (projects of one run sharing its server), but the target is "${target}"`);
  }
  if (target !== 'embedded' && block.reuse !== undefined) {
    fail('reuse', `"reuse" keeps an embedded Postgres running between runs; it does not apply to the ${target} target`);
  }
  if (block.kindCluster && block.kubeconfig) fail('kindCluster', 'give either "kindCluster" or "kubeconfig", not both');

  const common: CommonConfig = {
    source,
    tables: Object.freeze(block.tables === undefined || block.tables === 'all' ? [] : [...new Set(block.tables)]),
    migrations: block.migrations,
    partitions: Object.freeze({
      monthsBack: block.partitions?.monthsBack ?? DEFAULTS.partitions.monthsBack,
      monthsAhead: block.partitions?.monthsAhead ?? DEFAULTS.partitions.monthsAhead,
      tables: Object.freeze([...new Set(block.partitions?.tables ?? DEFAULTS.partitions.tables)]),
    }),
    allowMissing: block.allowMissing ?? DEFAULTS.allowMissing,
    verify: block.verify ?? DEFAULTS.verify,
    lockTimeoutMs: block.lockTimeoutMs ?? DEFAULTS.lockTimeoutMs,
    isolate: block.isolate ?? DEFAULTS.isolate,
  };
  switch (target) {
    case 'embedded':
      return Object.freeze({
        ...common,
        target,
        user: block.user ?? DEFAULTS.user,
        password: block.password ?? DEFAULTS.password,
        database: block.database ?? DEFAULTS.database,
        shareDatabase: block.shareDatabase ?? DEFAULTS.shareDatabase,
        ...reuseSetting(block.reuse ?? DEFAULTS.reuse, options.env ?? process.env),
      });
    case 'url': {
      const url = block.url!;
      let connection: ConnectionInfo;
      try {
        // "user", "password" and "database" (flags, E2E_MIGRATIONS_PASSWORD) complete the URL;
        // contradicting it is an error, never silently ignored. Then the defaults.
        const given = mergeCredentials(parseConnectionString(url), { user: block.user, password: block.password, database: block.database }, options.credentialSources);
        connection = connectionInfo({
          ...given,
          user: given.user || DEFAULTS.user,
          password: given.password || DEFAULTS.password,
          database: given.database || DEFAULTS.database,
        });
      } catch (error) {
        const key = error instanceof ConfigError ? (error.details.key ?? 'url') : 'url';
        throw new ConfigError(`${where}: ${(error as Error).message}`, { key, file: source }, { cause: error });
      }
      return Object.freeze({ ...common, target, url, connection });
    }
    case 'kind':
      return Object.freeze({
        ...common,
        target,
        namespace: block.namespace!,
        service: block.service ?? DEFAULTS.service,
        port: block.port ?? DEFAULTS.port,
        kubeconfig: block.kubeconfig,
        context: block.context,
        kindCluster: block.kindCluster,
        secret: block.secret,
        readyTimeoutMs: block.readyTimeoutMs ?? DEFAULTS.readyTimeoutMs,
        transport: block.transport ?? DEFAULTS.transport,
        // The schema checked the form: a bad value never gets here.
        nodeAddress: block.nodeAddress === undefined ? undefined : parseHostPort(block.nodeAddress),
        credentials: Object.freeze({
          ...(block.user !== undefined ? { user: block.user } : {}),
          ...(block.password !== undefined ? { password: block.password } : {}),
          ...(block.database !== undefined ? { database: block.database } : {}),
        }),
      });
  }
}

/**
 * `reuse`, unless CI is set (non-empty, not `false` or `0`): a CI job starts from a clean machine
 * and ends, so a server kept for a next run would only outlive the job; reuse is then turned
 * off and the reason kept for the one line that says so.
 */
function reuseSetting(reuse: boolean, env: Readonly<Record<string, string | undefined>>): { reuse: boolean; reuseIgnored?: string } {
  const ci = env.CI;
  if (!reuse || ci === undefined || ci === '' || ci === '0' || ci.toLowerCase() === 'false') return { reuse };
  return { reuse: false, reuseIgnored: `CI is set (CI=${ci})` };
}

/** The password a config holds, if any, so reporters can redact it before anything prints. */
export function configSecrets(config: ResolvedConfig): string[] {
  const password = config.target === 'embedded' ? config.password : config.target === 'url' ? config.connection.password : config.credentials.password;
  return password ? [password] : [];
}

function configError(error: z.ZodError, source: string): ConfigError {
  const flat = error.issues.flatMap(flattenUnion);
  const issues = flat.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.length ? `${formatPath(issue.path)}.` : '';
      return `unknown key${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => `"${where}${k}"`).join(', ')}`;
    }
    return `"${formatPath(issue.path)}": ${issue.message}`;
  });
  const first = flat[0];
  const key = first?.code === 'unrecognized_keys' ? first.keys[0] : first ? formatPath(first.path) : undefined;
  return new ConfigError(`invalid ${source}: ${issues.join('; ')}`, { ...(key ? { key } : {}), file: source, issues }, { cause: error });
}

/**
 * A union (`tables: 'all' | string[]`) reports one vague "Invalid input"; report instead the
 * branch that got furthest, so `tables: [42]` names `tables[0]`.
 */
function flattenUnion(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
  const deepest = issue.errors.reduce((best, branch) =>
    Math.max(0, ...branch.map((i) => i.path.length)) > Math.max(0, ...best.map((i) => i.path.length)) ? branch : best,
  );
  if (deepest.every((i) => i.path.length === 0)) return [issue];
  return deepest.map((i) => ({ ...i, path: [...issue.path, ...i.path] }) as z.core.$ZodIssue);
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index ? '.' : ''}${String(part)}`)).join('') || '(root)';
}

/** Go-library parity: a Kind config for a namespace with every default filled in. */
export function defaultMigrationConfig(namespace: string, kubeconfigPath?: string): KindConfig {
  const config = resolveConfig({ namespace, ...(kubeconfigPath ? { kubeconfig: kubeconfigPath } : {}) }) as KindConfig;
  return Object.freeze({ ...config, credentials: Object.freeze({ user: DEFAULTS.user, password: DEFAULTS.password, database: DEFAULTS.database }) });
}
