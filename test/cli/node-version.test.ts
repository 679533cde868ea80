import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

const BIN = join(import.meta.dirname, '../../dist/src/cli/bin.js');

/** The machine's own Node (20 on our machines and CI), which users may run the CLI with. */
function systemNode(): { path: string; version: string } | undefined {
  for (const path of ['/usr/bin/node', '/usr/local/bin/node']) {
    try {
      return { path, version: execFileSync(path, ['--version'], { encoding: 'utf8' }).trim() };
    } catch {
      continue; // not installed there
    }
  }
  return undefined;
}

const old = systemNode();
const tooOld = old !== undefined && Number(/^v(\d+)/.exec(old.version)?.[1]) < 22;

describe('the Node version', () => {
  test.skipIf(!tooOld)(`the built CLI on ${old?.version ?? 'an old Node'} stops at once, naming both versions, exit 2`, () => {
    const run = spawnSync(old!.path, [BIN, 'apply', '--url', 'postgres://u:p@127.0.0.1:1/d'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`e2e-migrations: e2e-migrations needs Node ≥ 22.19, found ${old!.version}\n`);
    expect(run.stdout).toBe('');
  });
});
