import type { MigrationConfigInput } from '../config/config-schema.ts';
import { resolveConfig, type MigrationConfig } from '../config/resolve-config.ts';
import { Reporter } from '../report/reporter.ts';
import { splitRunOptions, type RunOptions } from './run-options.ts';

export interface RunInput extends RunOptions {
  /** Names where the config came from, for error messages. */
  readonly source?: string;
  /** Use this reporter instead of making one (runners share theirs). */
  readonly reporter?: Reporter;
}

export interface BegunRun {
  readonly config: MigrationConfig;
  readonly options: RunOptions;
  readonly reporter: Reporter;
}

/**
 * What every entry point does first: split run options off the block, validate the block
 * (errors name `source`), and make the reporter that knows the password to redact.
 */
export function beginRun(input: MigrationConfigInput & RunInput, defaultSource?: string): BegunRun {
  const { config: raw, options } = splitRunOptions(input);
  const { source, reporter: given, ...block } = raw as typeof raw & { source?: string; reporter?: Reporter };
  const config = resolveConfig(block, source ?? defaultSource);
  const reporter = given ?? new Reporter({ sink: options.logger });
  reporter.addSecret(config.password);
  return { config, options, reporter };
}
