#!/usr/bin/env node
// The `e2e-migrations` executable. Kept apart from main.ts so importing the CLI never runs it.
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
