import { relative, isAbsolute } from 'node:path';
import type { MigrationConfigInput } from './config-schema.ts';
import { resolveConfig } from './resolve-config.ts';
import { CONTROL_ENV } from '../provide/provided.ts';

/** Keys that say where Postgres is; an E2E_MIGRATIONS_TARGET_URL override replaces all of them. */
const TARGET_KEYS = new Set([
  'target', 'url', 'namespace', 'kubeconfig', 'context', 'kindCluster', 'service', 'port', 'secret', 'user', 'password', 'database', 'readyTimeoutMs',
]);

export interface RunnerBlock {
  /** The block to run: as configured, or with its target replaced by the override. */
  readonly block: MigrationConfigInput;
  /** Where the block came from, for messages: the config file (relative to the cwd). */
  readonly source: string;
  /** Set when E2E_MIGRATIONS_TARGET_URL replaced the configured target. */
  readonly overriddenBy?: string;
}

/**
 * Validates a runner's `migrations` block before anything starts: a wrong key or type is a
 * ConfigError naming the key and the config file. A missing block means the defaults
 * (embedded Postgres, every table). Then applies the E2E_MIGRATIONS_TARGET_URL override, which
 * is how one server is shared by many suites: the suite keeps its tables, migrations and
 * options, and only the target changes.
 */
export function readRunnerBlock(raw: unknown, configFile: string, env: NodeJS.ProcessEnv = process.env): RunnerBlock {
  const source = displayPath(configFile);
  resolveConfig(raw ?? {}, source);
  const block = (raw ?? {}) as MigrationConfigInput;
  const url = env[CONTROL_ENV.targetUrl];
  if (!url) return Object.freeze({ block, source });
  const kept = Object.fromEntries(Object.entries(block).filter(([key]) => !TARGET_KEYS.has(key)));
  const overridden = { ...kept, target: 'url', url } as MigrationConfigInput;
  resolveConfig(overridden, `${CONTROL_ENV.targetUrl} with ${source}`);
  return Object.freeze({ block: overridden, source, overriddenBy: CONTROL_ENV.targetUrl });
}

/** A path as people want to read it: relative to the working directory when inside it. */
export function displayPath(path: string): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
