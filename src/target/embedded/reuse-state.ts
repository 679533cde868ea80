import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseError } from '../../errors/errors.ts';
import type { OwnerRecord } from './owner-record.ts';
import { readSmallFile } from './small-file.ts';

/**
 * What says a reused embedded Postgres is running, and where (reused-server.ts): one record per
 * key, in a folder only the user running it can enter — `$TMPDIR/e2e-migrations-reuse-<uid>`,
 * mode 0700. The folder holds, per key, `<key>.json` (the record), `<key>.lock` (held while a
 * run looks for, starts or stops the server) and `<key>.log` (the keeper's log, redacted).
 * Nothing there holds the password: the key is a hash. The folder itself stays (empty once
 * every server stopped): removing it would race with a run creating its lock in it.
 */
export interface ReuseRecord {
  readonly format: typeof RECORD_FORMAT;
  readonly key: string;
  /** The version of the binaries the server runs (the platform package's). */
  readonly version: string;
  /** The superuser runs log in as. */
  readonly user: string;
  /** On 127.0.0.1. */
  readonly port: number;
  /** The server's data directory, as it reports it (`SHOW data_directory`): tells it from another server on the port. */
  readonly data: string;
  /** The keeper process (reuse-keeper.ts): the server lives as long as it does. */
  readonly keeper: OwnerRecord;
  /** The keeper stops the server after this long without a client. */
  readonly idleTimeoutMs: number;
  readonly startedAt: string;
}

/** The files of one key in the folder. */
export interface ReusePaths {
  readonly folder: string;
  readonly key: string;
  readonly record: string;
  readonly lock: string;
  readonly log: string;
}

/** The folder's name in TMPDIR, followed by the uid. */
export const REUSE_FOLDER_PREFIX = 'e2e-migrations-reuse-';
const RECORD_FORMAT = 1;

/**
 * The key a reused server is found by: the binaries' version, the superuser and its password —
 * a run that would be refused the login, or would get other binaries, starts its own. Hashed,
 * so the password is in no file name and no record.
 */
export function reuseKey(version: string, user: string, password: string): string {
  return createHash('sha256').update(JSON.stringify(['e2e-migrations reuse', version, user, password])).digest('hex').slice(0, 24);
}

export function reusePaths(folder: string, key: string): ReusePaths {
  return { folder, key, record: join(folder, `${key}.json`), lock: join(folder, `${key}.lock`), log: join(folder, `${key}.log`) };
}

/**
 * This user's folder; with `create`, made when missing. Undefined when it does not exist (and
 * `create` is false). TMPDIR may be shared (/tmp), where anyone can create the name first: a
 * folder found there is used only when it is ours and not a link; if others could enter it,
 * it is closed first.
 */
export async function reuseFolder(options: { readonly create: boolean }): Promise<string | undefined> {
  const uid = process.getuid?.();
  if (uid === undefined) throw new DatabaseError('reusing the embedded Postgres needs a POSIX system (Linux or macOS)');
  const folder = join(tmpdir(), `${REUSE_FOLDER_PREFIX}${uid}`);
  if (options.create) {
    await mkdir(folder, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
  const info = await lstat(folder).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!info) return undefined;
  if (!info.isDirectory() || info.uid !== uid) {
    const found = info.isDirectory() ? `a folder of uid ${info.uid}` : 'not a folder';
    throw new DatabaseError(`refusing to use ${folder} for the reused embedded Postgres: it must be a folder of yours (uid ${uid}), found ${found}; remove it and retry`);
  }
  if ((info.mode & 0o077) !== 0) await chmod(folder, 0o700);
  return folder;
}

/** The record at `path`; undefined when there is none, `unreadable` when it is not one of ours. */
export async function readReuseRecord(path: string): Promise<ReuseRecord | 'unreadable' | undefined> {
  const text = await readSmallFile(path);
  if (text === undefined) return undefined;
  try {
    const record = JSON.parse(text) as ReuseRecord;
    const complete = record.format === RECORD_FORMAT && Number.isInteger(record.port) && Number.isInteger(record.keeper?.pid) && typeof record.data === 'string';
    return complete ? record : 'unreadable';
  } catch {
    return 'unreadable'; // written by another version, or damaged: the caller replaces it
  }
}

/** Writes the record whole or not at all (a reader never sees half of it); mode 0600. */
export async function writeReuseRecord(paths: ReusePaths, record: ReuseRecord): Promise<void> {
  const draft = `${paths.record}.${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(draft, `${JSON.stringify(record)}\n`, { mode: 0o600, flag: 'wx' });
    await rename(draft, paths.record);
  } finally {
    await rm(draft, { force: true });
  }
}

export async function removeReuseRecord(paths: ReusePaths): Promise<void> {
  await rm(paths.record, { force: true });
}

/** The keys that have a record in `folder`, or a lock (a server may be starting). */
export async function knownKeys(folder: string): Promise<string[]> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const keys = names.map((name) => /^([0-9a-f]+)(?:\.json|\.lock)$/.exec(name)?.[1]).filter((key) => key !== undefined);
  return [...new Set(keys)];
}
