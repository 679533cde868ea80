import type pg from 'pg';
import { parseIsolationName, TEMPLATE_PREFIX } from './clone-names.ts';
import { cloneLiveness, parseRecord, type CloneRecord } from './database-record.ts';

/**
 * A template of other migrations than the current ones is pruned once no run has used it for
 * this long: long enough to switch branches and back without rebuilding, short enough that
 * the templates of abandoned branches do not pile up (each is ~10 MB).
 */
export const UNUSED_TEMPLATE_MAX_AGE_MS = 7 * 24 * 60 * 60_000;

/** One of our databases on the server, as `status` lists it and pruning judges it. */
export interface IsolationDatabase {
  readonly name: string;
  /** `spare`: a copy of its template as migrating left it, kept for the next run to take. */
  readonly kind: 'template' | 'clone' | 'spare';
  /** The template it is (or was copied from). */
  readonly template: string;
  /** Clones: the run's id (the 6 hex of its prefix). */
  readonly runId?: string;
  /**
   * Templates: `current` (of the migrations asked about), `recent` (other migrations, used
   * lately), `stale` (other migrations, unused for {@link UNUSED_TEMPLATE_MAX_AGE_MS}: pruned).
   * Clones: `live` (their run still runs), `stale` (their run is gone: pruned), `unknown`
   * (no record of their run: stamped when first seen, pruned a day later).
   */
  readonly state: 'current' | 'recent' | 'stale' | 'live' | 'unknown';
  /** Why it is in that state, for people. */
  readonly why: string;
  /** Templates: when last used; clones: when made. From the database's record, when it has one. */
  readonly since?: string;
  readonly ageMs?: number;
  /** False for a template left half-built (not marked IS_TEMPLATE), or being built right now. */
  readonly complete: boolean;
  /** Whether the user asking owns it (may prune it). */
  readonly owned: boolean;
}

interface Row {
  readonly datname: string;
  readonly datistemplate: boolean;
  readonly comment: string | null;
  readonly owned: boolean;
}

export interface ListOptions {
  /** The template of the migrations asked about; it is `current`, never stale. */
  readonly current?: string;
  /** @default new Date() */
  readonly now?: Date;
}

/**
 * Every template and clone of ours on `client`'s server (names of our shape only — a user's
 * database is never listed), with its state. One catalog query and a look at the process
 * table for each clone's run; nothing is connected to.
 */
export async function listIsolationDatabases(client: pg.ClientBase, options: ListOptions = {}): Promise<IsolationDatabase[]> {
  const now = options.now ?? new Date();
  const { rows } = await client.query<Row>(
    `select datname, datistemplate, shobj_description(oid, 'pg_database') as comment, pg_has_role(datdba, 'USAGE') as owned
       from pg_database where starts_with(datname, $1) order by datname`,
    [TEMPLATE_PREFIX],
  );
  // A run's databases share its prefix and its owner: one left without a record (its run was
  // killed between CREATE DATABASE and COMMENT) is judged by its siblings' record.
  const runs = new Map<string, CloneRecord>();
  for (const row of rows) {
    const parsed = parseIsolationName(row.datname);
    const record = parseRecord(row.comment);
    if (parsed?.kind === 'clone' && record?.kind === 'clone' && record.owner) runs.set(parsed.prefix, record);
  }
  const listed: IsolationDatabase[] = [];
  for (const row of rows) {
    const parsed = parseIsolationName(row.datname);
    if (!parsed) continue;
    const record = parseRecord(row.comment);
    const base = { name: row.datname, template: parsed.template, complete: parsed.kind !== 'template' || row.datistemplate, owned: row.owned };
    if (parsed.kind === 'template') {
      const since = record?.kind === 'template' ? record.usedAt : undefined;
      const ageMs = since === undefined ? undefined : now.getTime() - Date.parse(since);
      const judged =
        row.datname === options.current
          ? { state: 'current' as const, why: 'of the migrations asked about' }
          : ageMs === undefined
            ? { state: 'recent' as const, why: 'no record of its last use yet (the next run stamps it)' }
            : ageMs > UNUSED_TEMPLATE_MAX_AGE_MS
              ? { state: 'stale' as const, why: `other migrations, unused for more than ${UNUSED_TEMPLATE_MAX_AGE_MS / 86_400_000} days` }
              : { state: 'recent' as const, why: 'other migrations, used lately' };
      listed.push(Object.freeze({ ...base, kind: 'template', ...judged, ...(since ? { since, ageMs } : {}) }));
    } else if (parsed.kind === 'spare') {
      // As long-lived as its template: gone or stale with it.
      const template = rows.find((other) => other.datname === parsed.template);
      const templateRecord = parseRecord(template?.comment);
      const usedAt = templateRecord?.kind === 'template' ? Date.parse(templateRecord.usedAt) : undefined;
      const judged = !template
        ? { state: 'stale' as const, why: 'its template is gone' }
        : parsed.template !== options.current && usedAt !== undefined && now.getTime() - usedAt > UNUSED_TEMPLATE_MAX_AGE_MS
          ? { state: 'stale' as const, why: 'its template is unused, to be pruned' }
          : { state: parsed.template === options.current ? ('current' as const) : ('recent' as const), why: 'a copy kept for the next run to take' };
      const since = record?.kind === 'clone' ? record.createdAt : undefined;
      listed.push(Object.freeze({ ...base, kind: 'spare', ...judged, ...(since ? { since, ageMs: now.getTime() - Date.parse(since) } : {}) }));
    } else {
      const clone = record?.kind === 'clone' ? record : runs.get(parsed.prefix);
      const liveness = await cloneLiveness(clone, now);
      const state = liveness.state === 'dead' ? 'stale' : liveness.state;
      const since = clone?.createdAt;
      listed.push(
        Object.freeze({
          ...base,
          kind: parsed.kind,
          runId: parsed.runId,
          state,
          why: liveness.why,
          ...(since ? { since, ageMs: now.getTime() - Date.parse(since) } : {}),
        }),
      );
    }
  }
  return listed;
}
