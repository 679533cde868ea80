import type { LogSink } from '../report/reporter.ts';

/** Options of every entry point that are not part of the (serializable) `migrations` block. */
export interface RunOptions {
  /** Where progress goes; `false` silences it. @default process.stderr */
  readonly logger?: LogSink | false;
  /** The clock for partitions and verification. @default new Date() */
  readonly now?: Date;
}

/** Splits run options off a combined object, so the rest can be validated strictly. */
export function splitRunOptions<T extends object>(input: T & RunOptions): { config: Omit<T, keyof RunOptions>; options: RunOptions } {
  const { logger, now, ...config } = input;
  return { config, options: { ...(logger !== undefined ? { logger } : {}), ...(now ? { now } : {}) } };
}
