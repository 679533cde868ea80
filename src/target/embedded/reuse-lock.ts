import { randomBytes } from 'node:crypto';
import { link, lstat, rename, rm, writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { DatabaseError } from '../../errors/errors.ts';
import { isOwnerGone, ownRecord, type OwnerRecord } from './owner-record.ts';
import { readSmallFile } from './small-file.ts';

/** Who holds a lock, and what for: what a waiting run reports. */
export interface LockHolder extends OwnerRecord {
  /** E.g. `starting the reused embedded Postgres`. */
  readonly doing: string;
  readonly since: string;
  /** Tells this holding apart from any other, even by the same process. */
  readonly nonce: string;
}

export interface HeldLock {
  /** Tells the runs that wait what the holder does now (e.g. that it starts a server). */
  update(doing: string): Promise<void>;
  /** Gives the lock up; idempotent. */
  release(): Promise<void>;
}

export interface LockOptions {
  /** What the holder does, for the runs that wait. */
  readonly doing: string;
  /** Gives up waiting after this long, naming the holder. */
  readonly timeoutMs: number;
  /** Called when this run starts waiting for a holder, and when what the holder does changes. */
  readonly onWait?: (holder: LockHolder) => void;
  readonly signal?: AbortSignal;
}

/** The first waits are short: most holders only look a record up (~1 ms). */
const FIRST_PAUSE_MS = 5;
const LONGEST_PAUSE_MS = 100;
/** A lock file that is not ours (damaged, another version) is taken over once this old. */
const UNREADABLE_GRACE_MS = 10_000;

/**
 * Takes the lock file `path`, waiting while a live process holds it. This is what makes two
 * runs never start two servers: a run holds it while it looks for the server and, when there
 * is none, until the one it starts is recorded; the keeper holds it while it decides to stop.
 *
 * The file is made whole first and then hard-linked to its name, which fails when the name
 * exists: a reader never sees half a record. A lock whose holder died (killed mid-start) is
 * broken by the first run that sees the holder gone (see `breakLock`).
 */
export async function lockFile(path: string, options: LockOptions): Promise<HeldLock> {
  const deadline = Date.now() + options.timeoutMs;
  let pause = FIRST_PAUSE_MS;
  let reported: string | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    const attempt = await tryLockFile(path, options.doing);
    if ('held' in attempt) return attempt.held;
    const { holder } = attempt;
    if (holder && `${holder.nonce} ${holder.doing}` !== reported) {
      reported = `${holder.nonce} ${holder.doing}`;
      options.onWait?.(holder);
    }
    if (Date.now() >= deadline) {
      const who = holder ? `pid ${holder.pid}, ${holder.doing} since ${holder.since}` : 'a holder that could not be identified';
      throw new DatabaseError(`gave up after ${options.timeoutMs} ms waiting for the lock ${path}, held by ${who}; if that process is stuck, end it and retry`);
    }
    await delay(pause, undefined, options.signal ? { signal: options.signal } : {});
    pause = Math.min(pause * 2, LONGEST_PAUSE_MS);
  }
}

/** Takes the lock if no live process holds it; otherwise says who does (undefined: unknown). */
export async function tryLockFile(path: string, doing: string): Promise<{ held: HeldLock } | { holder: LockHolder | undefined }> {
  const mine: LockHolder = { ...(await ownRecord()), doing, since: new Date().toISOString(), nonce: randomBytes(8).toString('hex') };
  const draft = `${path}.${mine.nonce}`;
  await writeFile(draft, JSON.stringify(mine), { mode: 0o600, flag: 'wx' });
  try {
    // A holder that died is broken and the lock tried again; twice is enough, a third try
    // finding a dead holder again means others are racing for it, and the caller waits.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(draft, path);
        return { held: heldLock(path, mine) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await readHolder(path);
      if (holder === undefined) continue; // released meanwhile
      if (!(await isAbandoned(path, holder))) return { holder: holder === 'unreadable' ? undefined : holder };
      await breakLock(path, holder);
    }
    return { holder: undefined };
  } finally {
    await rm(draft, { force: true });
  }
}

function heldLock(path: string, mine: LockHolder): HeldLock {
  let released: Promise<void> | undefined;
  // Only our own holding: a lock that was broken meanwhile belongs to someone else now.
  const ours = async (): Promise<boolean> => {
    const holder = await readHolder(path);
    return holder !== undefined && holder !== 'unreadable' && holder.nonce === mine.nonce;
  };
  const update = async (doing: string): Promise<void> => {
    if (!(await ours())) return;
    const draft = `${path}.${mine.nonce}.${randomBytes(4).toString('hex')}`;
    try {
      await writeFile(draft, JSON.stringify({ ...mine, doing, since: new Date().toISOString() }), { mode: 0o600, flag: 'wx' });
      await rename(draft, path); // replaces it whole: a reader sees the old record or the new one
    } finally {
      await rm(draft, { force: true });
    }
  };
  const release = async (): Promise<void> => {
    if (await ours()) await rm(path, { force: true });
  };
  return { update, release: () => (released ??= release()) };
}

async function readHolder(path: string): Promise<LockHolder | 'unreadable' | undefined> {
  const text = await readSmallFile(path);
  if (text === undefined) return undefined;
  try {
    const holder = JSON.parse(text) as LockHolder;
    return Number.isInteger(holder.pid) && typeof holder.nonce === 'string' ? holder : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

async function isAbandoned(path: string, holder: LockHolder | 'unreadable'): Promise<boolean> {
  if (holder !== 'unreadable') return isOwnerGone(holder);
  const info = await lstat(path).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > UNREADABLE_GRACE_MS;
}

/**
 * Removes the lock of a dead holder. It is first moved aside — of runs breaking it at once,
 * only one moves it — and what was moved is checked to be the lock judged dead: if its holder
 * died and another run locked it in between, that live lock is put back. (Should a third run
 * lock it in the microseconds before, two would hold it; the key then gets two servers, and
 * the one not recorded stops when idle.)
 */
async function breakLock(path: string, judged: LockHolder | 'unreadable'): Promise<void> {
  const aside = `${path}.broken.${randomBytes(6).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // another run broke it
    throw error;
  }
  try {
    const moved = await readHolder(aside);
    const same = judged === 'unreadable' ? moved === 'unreadable' : moved !== undefined && moved !== 'unreadable' && moved.nonce === judged.nonce;
    if (!same) await link(aside, path).catch(() => undefined);
  } finally {
    await rm(aside, { force: true });
  }
}
