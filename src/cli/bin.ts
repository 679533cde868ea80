#!/usr/bin/env node
// The `e2e-migrations` executable. Kept apart from main.ts so importing the CLI never runs it.
import module from 'node:module';

// Compiled code is cached between runs (Node ≥ 22.1): a CLI is started again and again.
module.enableCompileCache?.();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
