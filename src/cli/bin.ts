#!/usr/bin/env node
// The `e2e-migrations` executable. Kept apart from main.ts so importing the CLI never runs it.
import module from 'node:module';

import { assertNodeVersion } from '../util/assert-node-version.ts';
import { jsonDocument } from './json-output.ts';

try {
  // Before anything else: on an older Node, a dependency would fail later with a TypeError.
  assertNodeVersion();
} catch (error) {
  if (process.argv.includes('--json')) process.stdout.write(jsonDocument({ command: null, exitCode: 2, error }));
  process.stderr.write(`e2e-migrations: ${(error as Error).message}\n`);
  process.exit(2);
}
// Compiled code is cached between runs (Node ≥ 22.1): a CLI is started again and again.
module.enableCompileCache?.();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
