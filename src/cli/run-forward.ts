import type { MigrationConfigInput } from '../config/config-schema.ts';
import { ConfigError } from '../errors/errors.ts';
import type { RunOptions } from '../run/run-options.ts';

/** `e2e-migrations forward`: arrives with the Kind target. */
export async function runForward(_config: MigrationConfigInput & RunOptions, _io: { stdout: NodeJS.WritableStream }): Promise<number> {
  throw new ConfigError('the forward command needs the Kind target, which this build does not include yet', { key: 'command' });
}
