import { readFile, readlink } from 'node:fs/promises';
import { isRunning, startTime } from './process-table.ts';
import { readSmallFile } from './small-file.ts';

/**
 * What a run directory records about the process that started it (`owner.json`), so that a
 * later run can tell a directory in use from one left by a run that died. Only the pid is
 * required; the rest makes the answer exact where the system can tell it.
 */
export interface OwnerRecord {
  readonly pid: number;
  /** The owner's start time (see `startTime`): tells the owner from a later process with its pid. */
  readonly startTime?: string;
  /** /proc/sys/kernel/random/boot_id: a record from an earlier boot has a dead owner. */
  readonly bootId?: string;
  /** The owner's pid namespace: pids from another container's namespace mean nothing here. */
  readonly pidNamespace?: string;
  readonly createdAt?: string;
}

export const OWNER_FILE = 'owner.json';

let own: Promise<OwnerRecord> | undefined;

/** The record of this process. */
export function ownRecord(): Promise<OwnerRecord> {
  return (own ??= (async () => ({
    pid: process.pid,
    startTime: await startTime(process.pid),
    bootId: await readFile('/proc/sys/kernel/random/boot_id', 'utf8').then((id) => id.trim(), () => undefined),
    pidNamespace: await readlink('/proc/self/ns/pid').catch(() => undefined),
  }))());
}

/** The record in `runDir`, or undefined when it has none (still being created, or not ours). */
export async function readOwnerRecord(runDir: string): Promise<OwnerRecord | undefined> {
  const text = await readSmallFile(`${runDir}/${OWNER_FILE}`);
  if (text === undefined) return undefined;
  try {
    const record = JSON.parse(text) as OwnerRecord;
    return Number.isInteger(record.pid) && record.pid > 0 ? record : undefined;
  } catch {
    return undefined; // half-written or foreign: the caller treats it as "no record"
  }
}

/**
 * True when the owner is certainly dead: another boot, no such pid, or that pid is now a
 * process that started at another time. A record from another pid namespace is never
 * judged dead (its pid cannot be checked from here).
 */
export async function isOwnerGone(owner: OwnerRecord): Promise<boolean> {
  const me = await ownRecord();
  if (owner.bootId && me.bootId && owner.bootId !== me.bootId) return true;
  if (owner.pidNamespace && me.pidNamespace && owner.pidNamespace !== me.pidNamespace) return false;
  if (!isRunning(owner.pid)) return true;
  if (owner.startTime === undefined) return false;
  const now = await startTime(owner.pid);
  return now !== undefined && now !== owner.startTime;
}
