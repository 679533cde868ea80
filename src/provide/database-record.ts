import { hostname } from 'node:os';
import pg from 'pg';
import { isOwnerGone, ownRecord, type OwnerRecord } from '../target/embedded/owner-record.ts';

/*
 * What each isolation database says about itself, in its COMMENT: who made a clone (so a
 * later run can tell a dead run's clone from a live one without a connection held open —
 * the runners close theirs while tests run, so a dropped Kind tunnel does not matter), and
 * when a template was last used (so an unused one can be pruned). Safe to import from test
 * workers: pg and a few /proc reads.
 */

/** The process that made a clone, and where it ran. */
export interface CloneOwner extends OwnerRecord {
  readonly host: string;
}

export interface CloneRecord {
  readonly kind: 'clone';
  /** Absent when the clone had no record and a later run stamped it: its age is all that is known. */
  readonly owner?: CloneOwner;
  /** ISO time the database was made, or first seen without a record. */
  readonly createdAt: string;
}

export interface TemplateRecord {
  readonly kind: 'template';
  /** ISO time a run last built or reused it (or first saw it, for one made before records). */
  readonly usedAt: string;
  /** What the last full ensure (migrate, verify, snapshot) found; absent on older records. */
  readonly ensured?: TemplateEnsured;
}

/**
 * A template migrated and verified in a month needs nothing more that month: its migrations
 * are in its name, and its partitions run from that month. A run in the same month reuses it
 * on this record alone, without connecting to it (template.ts).
 */
export interface TemplateEnsured {
  /** The UTC month the partitions were made from, `YYYY-MM`. */
  readonly month: string;
  /** Migrations applied to it, in order. */
  readonly applied: readonly string[];
  /** Relations its selection covers (MigrateResult.tables). */
  readonly tables: readonly string[];
}

export type DatabaseRecord = CloneRecord | TemplateRecord;

/** The key that marks a comment as ours; anything else in a comment is not read. */
const MARK = 'e2e-migrations';

/** This process, as the owner of the clones of the run it set up. */
export async function thisProcess(): Promise<CloneOwner> {
  return Object.freeze({ host: hostname(), ...(await ownRecord()) });
}

/**
 * The record of a clone made now for the run of `owner` — the process that set the run up,
 * which outlives the test workers (one of them may make the clone, and end before the run
 * does). @default owner: this process
 */
export async function cloneRecord(owner?: CloneOwner, now: Date = new Date()): Promise<CloneRecord> {
  return Object.freeze({ kind: 'clone', owner: owner ?? (await thisProcess()), createdAt: now.toISOString() });
}

/** An owner as the run hands it to its workers (JSON in E2E_MIGRATIONS_RUN_OWNER); undefined when unreadable. */
export function parseOwner(text: string | undefined): CloneOwner | undefined {
  if (!text) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isOwner(value) ? Object.freeze(value) : undefined;
}

function isEnsured(value: unknown): value is TemplateEnsured {
  const ensured = value as Partial<TemplateEnsured> | null;
  const names = (list: unknown) => Array.isArray(list) && list.every((item) => typeof item === 'string');
  return typeof ensured === 'object' && ensured !== null && typeof ensured.month === 'string' && /^\d{4}-\d{2}$/.test(ensured.month) && names(ensured.applied) && names(ensured.tables);
}

function isOwner(value: unknown): value is CloneOwner {
  const owner = value as Partial<CloneOwner> | null;
  return typeof owner === 'object' && owner !== null && typeof owner.host === 'string' && Number.isInteger(owner.pid) && owner.pid! > 0;
}

/** The record a pruning run gives a clone it finds without one: from now on its age counts. */
export function unknownCloneRecord(now: Date = new Date()): CloneRecord {
  return Object.freeze({ kind: 'clone', createdAt: now.toISOString() });
}

export function templateRecord(usedAt: Date = new Date(), ensured?: TemplateEnsured): TemplateRecord {
  return Object.freeze({ kind: 'template', usedAt: usedAt.toISOString(), ...(ensured ? { ensured } : {}) });
}

/** Our record in a database's comment, or undefined (no comment, someone else's, malformed). */
export function parseRecord(comment: string | null | undefined): DatabaseRecord | undefined {
  if (!comment) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(comment);
  } catch {
    return undefined; // a comment someone wrote by hand: not a record
  }
  const record = value as { [MARK]?: unknown; kind?: unknown; owner?: unknown; createdAt?: unknown; usedAt?: unknown; ensured?: unknown } | null;
  if (record?.[MARK] !== 1) return undefined;
  if (record.kind === 'template' && isTime(record.usedAt)) {
    return Object.freeze({ kind: 'template', usedAt: record.usedAt, ...(isEnsured(record.ensured) ? { ensured: Object.freeze(record.ensured) } : {}) });
  }
  const owner = record.owner;
  if (record.kind === 'clone' && isTime(record.createdAt)) {
    if (owner === undefined) return Object.freeze({ kind: 'clone', createdAt: record.createdAt });
    if (isOwner(owner)) return Object.freeze({ kind: 'clone', owner: Object.freeze(owner), createdAt: record.createdAt });
  }
  return undefined;
}

/**
 * Writes `record` as the comment of `database`. COMMENT takes a literal, not a parameter, so
 * the value (our own JSON) goes through the driver's literal escaping.
 */
export async function writeRecord(client: pg.ClientBase, database: string, record: DatabaseRecord): Promise<void> {
  const text = JSON.stringify({ [MARK]: 1, ...record });
  await client.query(`COMMENT ON DATABASE ${pg.escapeIdentifier(database)} IS ${pg.escapeLiteral(text)}`);
}

/**
 * A clone whose owner cannot be checked from here (another host, another container) is taken
 * for a dead run's once it is this old: no run lasts a day, and a watch session that does makes
 * its clones anew for each rerun.
 */
export const FOREIGN_CLONE_MAX_AGE_MS = 24 * 60 * 60_000;

export type CloneLiveness =
  | { readonly state: 'live'; readonly why: string }
  | { readonly state: 'dead'; readonly why: string }
  | { readonly state: 'unknown'; readonly why: string };

/**
 * Whether the run that made a clone is still alive. On the same host (and pid namespace) the
 * process table answers exactly — pid and start time, or another boot; elsewhere only the
 * clone's age can, after {@link FOREIGN_CLONE_MAX_AGE_MS}.
 */
export async function cloneLiveness(record: CloneRecord | undefined, now: Date = new Date()): Promise<CloneLiveness> {
  if (!record) return { state: 'unknown', why: 'no record of its run' };
  const { owner } = record;
  const me = await ownRecord();
  const who = owner ? `pid ${owner.pid} on ${owner.host}` : 'its run (unrecorded)';
  if (owner && owner.host === hostname()) {
    if (await isOwnerGone(owner)) return { state: 'dead', why: `${who} has ended` };
    const elsewhere = owner.pidNamespace && me.pidNamespace && owner.pidNamespace !== me.pidNamespace;
    if (!elsewhere) return { state: 'live', why: `${who} is running` };
  }
  const age = now.getTime() - Date.parse(record.createdAt);
  return age > FOREIGN_CLONE_MAX_AGE_MS
    ? { state: 'dead', why: `${who} cannot be checked from here, and the clone is older than ${FOREIGN_CLONE_MAX_AGE_MS / 3_600_000} h` }
    : { state: 'live', why: `${who} cannot be checked from here; taken as live for ${FOREIGN_CLONE_MAX_AGE_MS / 3_600_000} h` };
}

function isTime(value: unknown): value is string {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value));
}
