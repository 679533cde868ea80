import type { Postgres } from '../postgres/connect.ts';
import { readGooseVersions } from './goose/goose-ledger.ts';
import { gooseVersionOf } from './goose/goose-parser.ts';
import { readLedgerState, type LedgerEntry, type LedgerPresence } from './ledger.ts';
import { isGoose, type LoadedMigration, type MigrationSet } from './loaded-migration.ts';

/** One applied migration, as a set sees the database. */
export interface AppliedMigration {
  /** The set's migration: by name for a Kysely set, by version for a goose set. Absent when the set has none. */
  readonly migration?: LoadedMigration;
  /** Its row in our ledger; absent for a version only `goose_db_version` records. */
  readonly entry?: LedgerEntry;
  /** goose: the version. */
  readonly version?: bigint;
  readonly appliedAt: Date;
}

/** What a database says is applied, read for one set. */
export interface AppliedState {
  /**
   * Everything applied, oldest first: a Kysely set's in order of application, a goose set's
   * by version, as goose orders them.
   */
  readonly applied: readonly AppliedMigration[];
  /** Our ledger's rows, oldest first, by recorded name (every source's). */
  readonly ledger: ReadonlyMap<string, LedgerEntry>;
  /** Which bookkeeping tables exist. */
  readonly present: LedgerPresence;
  /** What the database says about one migration of the set; undefined while it is pending. */
  of(migration: LoadedMigration): AppliedMigration | undefined;
}

/**
 * Reads what is applied, for `set`. Plain SQL, two to three small queries.
 *
 * A Kysely migration is applied when our ledger has its name. A goose migration is its
 * version, as in goose: a ledger row counts for the version its name starts with, so a
 * renamed file stays applied and ledgers of 0.1.0 (which recorded `1_create_items`) read as
 * they should. When `goose_db_version` exists it decides, as it does for goose: a version is
 * applied when its latest row says so, whoever wrote it (goose's CLI, the Helm chart's Job, or
 * this tool, which writes both ledgers in one transaction). Our ledger then only adds
 * checksums and the relations record.
 */
export async function readApplied(pg: Postgres, set: MigrationSet): Promise<AppliedState> {
  const { present, ledger } = await readLedgerState(pg);

  if (set.kind === 'kysely') {
    const byName = new Map<string, LoadedMigration>(set.migrations.map((m) => [m.name, m]));
    const applied = [...ledger.values()].map((entry) => appliedMigration({ migration: byName.get(entry.name), entry, appliedAt: entry.appliedAt }));
    const index = new Map(applied.map((a) => [a.entry!.name, a]));
    return Object.freeze({ applied: Object.freeze(applied), ledger, present, of: (m: LoadedMigration) => index.get(m.name) });
  }

  // goose: the first ledger row of each version (oldest first), then goose's own verdict.
  const rowOf = new Map<bigint, LedgerEntry>();
  for (const entry of ledger.values()) {
    const version = gooseVersionOf(entry.name);
    if (version !== undefined && !rowOf.has(version)) rowOf.set(version, entry);
  }
  const gooseApplied = present.goose ? await readGooseVersions(pg) : undefined;
  const versions = gooseApplied ? [...gooseApplied.keys()] : [...rowOf.keys()];
  versions.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const byVersion = new Map(set.migrations.map((m) => [m.version, m]));
  const applied = versions.map((version) => {
    const entry = rowOf.get(version);
    return appliedMigration({
      migration: byVersion.get(version),
      version,
      appliedAt: entry?.appliedAt ?? gooseApplied!.get(version)!,
      ...(entry ? { entry } : {}),
    });
  });
  const index = new Map(applied.map((a) => [a.version, a]));
  return Object.freeze({ applied: Object.freeze(applied), ledger, present, of: (m: LoadedMigration) => (isGoose(m) ? index.get(m.version) : undefined) });
}

/** Frozen, with no `migration` key when the set has none (optional properties are absent, never undefined). */
function appliedMigration(applied: Omit<AppliedMigration, 'migration'> & { migration: LoadedMigration | undefined }): AppliedMigration {
  const { migration, ...rest } = applied;
  return Object.freeze({ ...rest, ...(migration ? { migration } : {}) });
}

/** A migration's state: `ok`, `changed` (drift), `unrecorded` (applied without a checksum) or `pending`. */
export type ChecksumState = 'ok' | 'changed' | 'unrecorded' | 'pending';

/** Whether `migration` is applied and whether its file still matches what was applied. */
export function checksumState(state: AppliedState, migration: LoadedMigration): ChecksumState {
  const applied = state.of(migration);
  if (!applied) return 'pending';
  const recorded = applied.entry?.checksum;
  return recorded === undefined ? 'unrecorded' : recorded === migration.checksum ? 'ok' : 'changed';
}
