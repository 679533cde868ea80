import type { MigrationConfigInput } from '../config/config-schema.ts';
import { configSecrets, resolveConfig, type ResolvedConfig, type ResolveOptions, type TargetKind } from '../config/resolve-config.ts';
import { ConfigError } from '../errors/errors.ts';
import { Reporter, type LogSink } from '../report/reporter.ts';
import { Session } from './session.ts';

/** Options of every entry point that are not part of the (serializable) `migrations` block. */
export interface RunOptions {
  /** Where progress goes; `false` silences it. @default process.stderr */
  readonly logger?: LogSink | false;
  /** The clock for partitions and verification. @default new Date() */
  readonly now?: Date;
}

export interface StartOptions {
  /** Names where the block came from, for messages. @default 'configuration' */
  readonly source?: string;
  /** Close on SIGINT/SIGTERM (the CLI). @default false */
  readonly interruptible?: boolean;
  /**
   * The targets this command can use, with the reason, checked before anything starts (e.g.
   * `verify` on a fresh embedded server would only report everything missing).
   */
  readonly targets?: { readonly allowed: readonly TargetKind[]; readonly why: string };
  /** How to name credentials given apart from a URL (`--password`), for messages. */
  readonly credentialSources?: ResolveOptions['credentialSources'];
}

/**
 * The edge of the API and the CLI: splits the run options off, resolves the block once,
 * makes the reporter that knows which secrets to redact, and opens the session.
 */
export async function startSession(input: MigrationConfigInput & RunOptions, options: StartOptions = {}): Promise<Session> {
  const { logger, now, ...block } = input;
  return openResolved(resolveInput(block, options), { ...(logger !== undefined ? { logger } : {}), ...(now ? { now } : {}) }, options);
}

/** The block resolved as `startSession` resolves it, for callers that decide before opening. */
export function resolveInput(block: MigrationConfigInput, options: StartOptions = {}): ResolvedConfig {
  const config = resolveConfig(block, {
    ...(options.source ? { source: options.source } : {}),
    ...(options.credentialSources ? { credentialSources: options.credentialSources } : {}),
  });
  if (options.targets && !options.targets.allowed.includes(config.target)) {
    throw new ConfigError(`${options.targets.why} (the target would be "${config.target}")`, { key: 'target', file: config.source });
  }
  return config;
}

/** Opens a session on a config already resolved, with the reporter that redacts its secrets. */
export function openResolved(config: ResolvedConfig, run: RunOptions, options: StartOptions = {}): Promise<Session> {
  const reporter = new Reporter({ sink: run.logger ?? process.stderr, secrets: configSecrets(config) });
  return Session.open(config, { reporter, ...(run.now ? { now: run.now } : {}), ...(options.interruptible ? { interruptible: true } : {}) });
}
