import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { embeddedPort, probePort, run, vitest } from '../runners/run-runner.ts';

const MAIN = join(import.meta.dirname, '../../src/cli/bin.ts');

/** PIDs of running `postgres` server processes (postmasters and their children). */
function postgresPids(): Set<number> {
  const out = execFileSync('ps', ['-eo', 'pid=,comm='], { encoding: 'utf8' });
  return new Set(
    out
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter(([, comm]) => comm === 'postgres')
      .map(([pid]) => Number(pid)),
  );
}

/** Waits until every postgres process that was not there before is gone; returns those left. */
async function newPostgresGone(before: Set<number>, timeoutMs = 15_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = [...postgresPids()].filter((pid) => !before.has(pid));
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/*
 * Ctrl-C and CI's SIGTERM at several moments of `e2e-migrations apply` on the embedded default:
 * teardown runs once, the exit code is 128 + the signal, nothing crashes, and no server is left.
 */
describe('signals during `e2e-migrations apply` on the embedded default', () => {
  test.each([
    ['SIGTERM', 143, /target\s+waiting for the embedded Postgres/, 'while the server starts'],
    ['SIGINT', 130, /migrate\s+waiting for Postgres/, 'while migrating'],
    ['SIGTERM', 143, /migrate\s+waiting for Postgres/, 'while migrating'],
  ] as const)('%s (exit %i) %s: teardown once, no crash, no server left', async (signal, code, when, _moment) => {
    const before = postgresPids();
    const result = await run([MAIN, 'apply', '--all'], { interrupt: { when, signal, delayMs: 50 }, timeoutMs: 60_000 });
    expect(result.signal).toBeNull();
    expect(result.code, result.output).toBe(code);
    expect(result.output).not.toMatch(/Unhandled|unhandled|node:internal/);
    expect(result.output.match(/teardown (ok|FAILED)/g), result.output).toEqual(['teardown ok']);
    expect(await newPostgresGone(before)).toEqual([]);
  });
});

/*
 * CI cancels jobs and the OOM killer ends them with SIGKILL: no handler runs. The embedded
 * server must not outlive its runner (the brief: gone within 15 s), since it would otherwise
 * listen with known credentials forever.
 */
describe('SIGKILL of a Vitest run on the embedded default', () => {
  test('the embedded server is gone within 15 s; nothing listens on its port', async () => {
    const before = postgresPids();
    const result = await vitest('vitest-project', [], { env: { FIXTURE_SLOW_MS: '30000' }, interrupt: { when: /^INJECTED /m, signal: 'SIGKILL' } });
    expect(result.signal).toBe('SIGKILL');
    const port = embeddedPort(result.output);
    expect(await newPostgresGone(before)).toEqual([]);
    expect(await probePort(port)).toBe('ECONNREFUSED');
  });
});
