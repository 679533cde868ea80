import { execFileSync, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectionInfo, type ConnectionInfo } from '../../../src/postgres/connection-string.ts';
import { startEmbeddedTarget } from '../../../src/target/embedded/embedded-target.ts';
import { exists, findPasswordLeaks, isAlive, isRoot, listenersOn, login, postmasterOn, processesMentioning, ROOT_BINARIES, ROOT_RUNS, runDirsOwnedBy, waitUntil } from './embedded-probe.ts';
import { environment, keepersOf, listeningAddressesOf, REUSE_CHILD, runCli, startReuseRun, stateFiles, stateFolder } from './reuse-probe.ts';

/*
 * `reuse`: the embedded server outlives the run that started it, and the next run — another
 * process — finds it. Each test has a TMPDIR of its own, so it sees only its own servers (and
 * `stop` stops only those); runs are child processes (fixtures/reuse-child.ts), as the CLI's
 * or a runner's would be.
 */

const GONE_MS = 30_000;

/** `nobody`, when this suite runs as root and that user can run its Node and read its files. */
const ordinaryUser = (() => {
  if (!isRoot) return undefined;
  const user = { uid: Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim()), gid: Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim()) };
  const can = spawnSync('/bin/sh', ['-c', 'test -x "$1" && test -r "$2"', 'sh', process.execPath, REUSE_CHILD], { ...user, cwd: '/' }).status === 0;
  return can ? user : undefined;
})();
let tmp: string;
let password: string;

const adminOn = (port: number): ConnectionInfo => connectionInfo({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'reuse-test-'));
  password = `pw-${randomBytes(8).toString('hex')}`;
});

afterEach(async () => {
  // Whatever a test left running: what `stop` is for.
  await runCli(tmp, ['stop', '--quiet']);
  await rm(tmp, { recursive: true, force: true });
});

describe('a reused embedded Postgres', () => {
  it('started by one run is found and used by the next run, in another process', async () => {
    const first = startReuseRun({ tmpdir: tmp, password, mode: 'release' });
    const started = await first.acquired();
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(started.started).toBe(true);

    // The starter is gone; the server is not.
    expect(await login(adminOn(started.port))).toMatchObject({ database: 'postgres' });
    const next = startReuseRun({ tmpdir: tmp, password, mode: 'release' });
    const found = await next.acquired();
    expect(await next.exited).toEqual({ code: 0, signal: null });
    expect(found).toMatchObject({ started: false, port: started.port });
    expect(found.pid).not.toBe(started.pid);
    expect(keepersOf(tmp)).toHaveLength(1);
  });

  it('is started once when two runs ask at the same time; the second says whom it waits for', async () => {
    const runs = [startReuseRun({ tmpdir: tmp, password, mode: 'hold' }), startReuseRun({ tmpdir: tmp, password, mode: 'hold' })];
    const acquired = await Promise.all(runs.map((run) => run.acquired()));
    expect(acquired.map((a) => a.started).sort()).toEqual([false, true]);
    expect(acquired[0]!.port).toBe(acquired[1]!.port);
    expect(keepersOf(tmp)).toHaveLength(1);

    const starter = acquired.find((a) => a.started)!;
    const waiter = runs[acquired.indexOf(acquired.find((a) => !a.started)!)]!;
    const waits = waiter.events.filter((e) => e.event === 'wait').map((e) => (e as { what: string }).what);
    expect(waits.some((what) => what.includes(`pid ${starter.pid}`) && /starting the reused embedded Postgres/.test(what))).toBe(true);
    await Promise.all(runs.map((run) => run.release()));
  });

  it('outlives a starter killed with SIGKILL, survives other runs cleaning up, and serves the next run', async () => {
    const first = startReuseRun({ tmpdir: tmp, password, mode: 'hold' });
    const { port } = await first.acquired();
    first.process.kill('SIGKILL');
    await first.exited;

    expect(await login(adminOn(port))).toMatchObject({ database: 'postgres' });
    // An ordinary start removes the run directories of dead runs (stale-runs.ts): the reused
    // server's belongs to its keeper, which lives.
    const server = postmasterOn(port)!;
    await using ordinary = await startEmbeddedTarget({ user: 'postgres', password, database: 'postgres' });
    expect(ordinary.connection.port).not.toBe(port);
    expect(exists(server.runDir)).toBe(true);
    expect(isAlive(server.pid)).toBe(true);

    const next = startReuseRun({ tmpdir: tmp, password, mode: 'release' });
    expect(await next.acquired()).toMatchObject({ started: false, port });
    await next.exited;
  });

  it('is started by the next run when its starter was killed mid-start, holding the lock; nothing of the first start is left', async () => {
    const first = startReuseRun({ tmpdir: tmp, password, mode: 'hold' });
    await waitUntil('initdb to run', () => first.events.some((e) => e.event === 'log' && /creating subdirectories/.test(e.line)), 60_000);
    const [abandoned] = keepersOf(tmp);
    expect(abandoned).toBeDefined();
    const [abandonedRun] = runDirsOwnedBy(abandoned!, isRoot ? ROOT_RUNS : tmp);
    expect(abandonedRun).toBeDefined();
    first.process.kill('SIGKILL');
    await first.exited;

    const next = startReuseRun({ tmpdir: tmp, password, mode: 'release' });
    expect(await next.acquired()).toMatchObject({ started: true });
    await next.exited;
    // The first keeper lost its lifeline before the hand-over: it stopped what it had started.
    await waitUntil('the abandoned keeper and its run directory to go', () => !isAlive(abandoned!) && !exists(abandonedRun!), GONE_MS);
    expect(processesMentioning(abandonedRun!)).toEqual([]);
    expect(keepersOf(tmp)).toHaveLength(1);
  });

  it('whose server died is replaced: its keeper stopped, its record rewritten', async () => {
    const first = startReuseRun({ tmpdir: tmp, password, mode: 'release' });
    const { port } = await first.acquired();
    await first.exited;
    const [keeper] = keepersOf(tmp);
    const server = postmasterOn(port)!;
    process.kill(server.pid, 'SIGKILL');
    await waitUntil('the postmaster to die', () => !isAlive(server.pid), 5_000);

    const next = startReuseRun({ tmpdir: tmp, password, mode: 'release' });
    const replaced = await next.acquired();
    await next.exited;
    expect(replaced.started).toBe(true);
    expect(next.events.some((e) => e.event === 'log' && e.line.includes(`replacing the reused embedded Postgres on 127.0.0.1:${port}`))).toBe(true);
    expect(isAlive(keeper!)).toBe(false);
    expect(keepersOf(tmp)).toHaveLength(1);
    expect(await login(adminOn(replaced.port))).toMatchObject({ database: 'postgres' });
    await waitUntil('the dead server\'s directory to go', () => !exists(server.runDir), GONE_MS);
  });

  it('whose keeper was killed is replaced, and the killed keeper\'s server is gone with it', async () => {
    const first = startReuseRun({ tmpdir: tmp, password, mode: 'release' });
    const { port } = await first.acquired();
    await first.exited;
    const [keeper] = keepersOf(tmp);
    const server = postmasterOn(port)!;
    process.kill(keeper!, 'SIGKILL');

    const next = startReuseRun({ tmpdir: tmp, password, mode: 'release' });
    const replaced = await next.acquired();
    await next.exited;
    expect(replaced.started).toBe(true);
    expect(next.events.some((e) => e.event === 'log' && e.line.includes(`its keeper (pid ${keeper}) is gone`))).toBe(true);
    await waitUntil('the killed keeper\'s server and directory to go', () => !isAlive(server.pid) && !exists(server.runDir), GONE_MS);
  });

  it('replaces a record it cannot read', async () => {
    const first = startReuseRun({ tmpdir: tmp, password, mode: 'release' });
    const { port } = await first.acquired();
    await first.exited;
    const [record] = stateFiles(tmp).filter((name) => name.endsWith('.json'));
    await runCli(tmp, ['stop', '--quiet']);
    await writeFile(join(stateFolder(tmp), record!), '{"format": 99}');

    const next = startReuseRun({ tmpdir: tmp, password, mode: 'release' });
    const replaced = await next.acquired();
    await next.exited;
    expect(replaced.started).toBe(true);
    expect(next.events.some((e) => e.event === 'log' && /not a record this version of e2e-migrations can read/.test(e.line))).toBe(true);
    expect(await login(adminOn(replaced.port))).toMatchObject({ database: 'postgres' });
    expect(isAlive(postmasterOn(port)?.pid ?? -1)).toBe(false);
  });

  it('stops itself after its idle timeout, leaving nothing — but not while a run holds it', async () => {
    const idleTimeoutMs = 500;
    const holder = startReuseRun({ tmpdir: tmp, password, mode: 'hold', idleTimeoutMs });
    const { port, idleTimeoutMs: reported } = await holder.acquired();
    expect(reported).toBe(idleTimeoutMs);
    const server = postmasterOn(port)!;
    const [keeper] = keepersOf(tmp);

    // Held: many idle timeouts pass, and it stays.
    await delay(idleTimeoutMs * 6);
    expect(isAlive(keeper!)).toBe(true);
    expect(await login(adminOn(port))).toMatchObject({ database: 'postgres' });

    await holder.release();
    await waitUntil('the idle server, its keeper and its directory to go', () => !isAlive(keeper!) && !isAlive(server.pid) && !exists(server.runDir), GONE_MS);
    expect(processesMentioning(server.runDir)).toEqual([]);
    expect(stateFiles(tmp)).toEqual([]);
    await expect(login(adminOn(port))).rejects.toThrow();
  });

  it('is stopped by `e2e-migrations stop`, which leaves no process, no directory and no file holding the password', async () => {
    const first = startReuseRun({ tmpdir: tmp, password, mode: 'release' });
    const { port } = await first.acquired();
    await first.exited;
    const server = postmasterOn(port)!;
    const [keeper] = keepersOf(tmp);
    // While it runs: the password is in no file and on no command line, nor in the keeper's environment.
    const during = findPasswordLeaks(password, { dirs: [stateFolder(tmp)], owners: [process.getuid!()] });
    expect(during).toEqual({ leaks: [], privateFiles: [] });
    expect(environment(keeper!).some((entry) => entry.includes(password))).toBe(false);

    const stop = await runCli(tmp, ['stop', '--json']);
    expect(stop.code).toBe(0);
    const document = JSON.parse(stop.stdout) as { ok: boolean; stopped: { port: number; outcome: string; pid: number }[] };
    expect(document).toMatchObject({ ok: true, stopped: [{ port, outcome: 'stopped', pid: keeper }] });
    // At once: stop returns once the server is gone.
    expect(isAlive(keeper!)).toBe(false);
    expect(isAlive(server.pid)).toBe(false);
    expect(exists(server.runDir)).toBe(false);
    expect(processesMentioning(server.runDir)).toEqual([]);
    expect(stateFiles(tmp)).toEqual([]);
    expect(findPasswordLeaks(password, { dirs: [tmp], owners: [process.getuid!()] })).toEqual({ leaks: [], privateFiles: [] });

    const again = await runCli(tmp, ['stop']);
    expect(again).toMatchObject({ code: 0, stdout: 'no reused embedded Postgres was running\n' });
    const json = await runCli(tmp, ['stop', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, command: 'stop', stopped: [] });
  });

  it('listens on 127.0.0.1 only, without a Unix socket; its keeper listens on nothing', async () => {
    const run = startReuseRun({ tmpdir: tmp, password, mode: 'release' });
    const { port } = await run.acquired();
    await run.exited;
    expect(listenersOn(port)).toEqual({ tcp: ['127.0.0.1'], unix: [] });
    expect(listeningAddressesOf(postmasterOn(port)!.pid)).toEqual(['127.0.0.1']);
    const [keeper] = keepersOf(tmp);
    expect(listeningAddressesOf(keeper!)).toEqual([]);
  });

  it.runIf(ordinaryUser !== undefined)('works for an ordinary user: its own server, state and run directory, in its TMPDIR', async () => {
    const user = ordinaryUser!;
    await chown(tmp, user.uid, user.gid);
    try {
      const first = startReuseRun({ tmpdir: tmp, password, mode: 'release', as: user });
      const { port, started } = await first.acquired();
      await first.exited;
      expect(started).toBe(true);
      const server = postmasterOn(port)!;
      expect(server.uid).toBe(user.uid);
      expect(server.runDir.startsWith(`${tmp}/`)).toBe(true);
      const folder = statSync(stateFolder(tmp, user.uid));
      expect({ uid: folder.uid, mode: folder.mode & 0o777 }).toEqual({ uid: user.uid, mode: 0o700 });

      const next = startReuseRun({ tmpdir: tmp, password, mode: 'release', as: user });
      expect(await next.acquired()).toMatchObject({ started: false, port });
      await next.exited;

      const stop = await runCli(tmp, ['stop'], {}, user);
      expect(stop).toMatchObject({ code: 0, stdout: expect.stringMatching(/^stopped embedded Postgres .* on 127\.0\.0\.1:\d+/) });
      expect(isAlive(server.pid)).toBe(false);
      expect(exists(server.runDir)).toBe(false);
      expect(stateFiles(tmp, user.uid)).toEqual([]);
    } finally {
      await runCli(tmp, ['stop', '--quiet'], {}, user);
    }
  });

  it.runIf(isRoot)('runs as postgres, from the binaries outside the project, in the shared run area, when started by root', async () => {
    const run = startReuseRun({ tmpdir: tmp, password, mode: 'release' });
    const { port } = await run.acquired();
    await run.exited;
    const server = postmasterOn(port)!;
    expect(server.uid).toBe(Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()));
    expect(server.binary.startsWith(`${ROOT_BINARIES}/`)).toBe(true);
    expect(server.runDir.startsWith(`${ROOT_RUNS}/`)).toBe(true);
  });
});
