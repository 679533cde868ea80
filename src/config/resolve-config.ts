import * as z from 'zod';
import { ConfigError } from '../errors/errors.ts';
import type { TargetKind } from '../target/target.ts';
import { migrationConfigSchema, type MigrationConfigInput } from './config-schema.ts';
import { DEFAULTS } from './defaults.ts';

/** A checked configuration: the target is decided, unset credentials stay unset (see defaults). */
export interface MigrationConfig {
  readonly target: TargetKind;
  readonly url?: string;
  readonly namespace?: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly kindCluster?: string;
  readonly service: string;
  readonly port: number;
  readonly secret?: string;
  readonly user?: string;
  readonly password?: string;
  readonly database?: string;
  /** Empty means all. */
  readonly tables: readonly string[];
  readonly migrations?: string;
  readonly partitions: { readonly monthsBack: number; readonly monthsAhead: number };
  readonly readyTimeoutMs: number;
  readonly verify: boolean;
  /** Test runners: a database per test file, cloned from a migrated template. Absent means off. */
  readonly isolate?: 'file' | false;
}

const KIND_KEYS = ['namespace', 'kubeconfig', 'context', 'kindCluster', 'secret'] as const;

/**
 * Validates a `migrations` block and decides the target. `source` names where the block
 * came from (a config file, `--flags`) so that errors point there.
 */
export function resolveConfig(input: unknown, source = 'configuration'): MigrationConfig {
  const parsed = migrationConfigSchema.safeParse(input ?? {});
  if (!parsed.success) throw configError(parsed.error, source);
  const config = parsed.data;
  const kindKeys = KIND_KEYS.filter((key) => config[key] !== undefined);
  const target: TargetKind = config.target ?? (config.url ? 'url' : kindKeys.length > 0 ? 'kind' : 'embedded');
  if (target === 'url' && !config.url) throw new ConfigError(`${source}: "url" is required when "target" is "url"`, { key: 'url', file: source });
  if (target !== 'url' && config.url) throw new ConfigError(`${source}: "url" cannot be combined with target "${target}"`, { key: 'url', file: source });
  if (target === 'kind' && !config.namespace) {
    throw new ConfigError(`${source}: "namespace" is required for the Kind target (the namespace of the "${config.service ?? DEFAULTS.service}" Service)`, { key: 'namespace', file: source });
  }
  if (target !== 'kind' && kindKeys.length > 0) {
    throw new ConfigError(`${source}: ${kindKeys.map((k) => `"${k}"`).join(', ')} only apply to the Kind target, but the target is "${target}"`, { key: kindKeys[0], file: source });
  }
  if (config.kindCluster && config.kubeconfig) {
    throw new ConfigError(`${source}: give either "kindCluster" or "kubeconfig", not both`, { key: 'kindCluster', file: source });
  }
  return Object.freeze({
    ...config,
    target,
    service: config.service ?? DEFAULTS.service,
    port: config.port ?? DEFAULTS.port,
    tables: Object.freeze(config.tables === undefined || config.tables === 'all' ? [] : [...new Set(config.tables)]),
    partitions: Object.freeze({
      monthsBack: config.partitions?.monthsBack ?? DEFAULTS.partitions.monthsBack,
      monthsAhead: config.partitions?.monthsAhead ?? DEFAULTS.partitions.monthsAhead,
    }),
    readyTimeoutMs: config.readyTimeoutMs ?? DEFAULTS.readyTimeoutMs,
    verify: config.verify ?? true,
  });
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
export function defaultMigrationConfig(namespace: string, kubeconfigPath?: string): MigrationConfig {
  const config = resolveConfig({ namespace, ...(kubeconfigPath ? { kubeconfig: kubeconfigPath } : {}) });
  return Object.freeze({ ...config, user: DEFAULTS.user, password: DEFAULTS.password, database: DEFAULTS.database });
}
