import type pg from 'pg';
import type { ConnectionInfo } from '../postgres/connection-string.ts';
import { openClient } from '../postgres/open-client.ts';
import { GOOSE_TABLE } from '../migrate/goose/goose-ledger.ts';
import { CHECKSUM_TABLE, LEDGER_LOCK_TABLE, LEDGER_TABLE, RELATIONS_TABLE } from '../migrate/ledger.ts';
import { cloneAs, withTemplateShared } from './clone.ts';
import { assertClonePrefix, assertTemplateName, cloneName } from './clone-names.ts';
import { cloneRecord, writeRecord } from './database-record.ts';
import { LeaseListener } from './lease-listener.ts';
import { INSTALL_WATCH_SQL, RECYCLE_FUNCTION, RECYCLE_PREREQUISITES_SQL, UNCOVERED_TABLES_SQL } from './recycle-sql.ts';
import { DELETE_MAX_BYTES, LOCK_TIMEOUT_MS } from './reset-tables.ts';
import { claimSpare, listSpares, spareName } from './spare-database.ts';

/**
 * How many databases a run prepares before its test files ask: one per file that can run at
 * once (Vitest: its workers, at most its files; Jest: its workers). More are made only when
 * files wait and nothing is being put back.
 */
export interface LeaseSizing {
  readonly ahead: number;
  /** How many files the run has, when known (Vitest): single-use databases are never made beyond it. @default Infinity */
  readonly total?: number;
}

/** How long stop() waits for leases still held to come back, when it keeps spares (ms). */
const RELEASE_GRACE_MS = 500;

/** Never more than this many prepared ahead: each is a ~10 MB copy made while setup ends. */
export const LEASES_AHEAD_CAP = 8;

/** What the leases did over a run, for the teardown's line. */
export interface LeaseSummary {
  /** Copies of the template made. */
  readonly made: number;
  /** Leases granted (test files served). */
  readonly leased: number;
  /** Of those, served by a database put back after an earlier file. */
  readonly recycled: number;
  /** Databases dropped during the run: changed beyond a reset, or single-use. */
  readonly discarded: number;
  /** The changes that made files' databases unfit for the next file (DDL command tags, …). */
  readonly changes: readonly string[];
  /** Of those made, taken from spares an earlier run kept. */
  readonly fromSpares: number;
  /** Free databases kept as spares for the next run (stop({ keepSpares })). */
  readonly kept: number;
  /** With stop({ dropRun }): the run's databases dropped then; absent when that failed (drop them otherwise). */
  readonly dropped?: readonly string[];
  /** Why databases were single-use (the first copy said so); absent when they were recycled. */
  readonly singleUse?: string;
  /** Why making copies stopped early (a lost connection, a failed copy). */
  readonly error?: string;
}

/** A database of the run, between copy and drop. */
interface Leasable {
  readonly name: string;
  /** Our connection to it, for the watch and the resets; none when databases are single-use. */
  client: pg.Client | undefined;
  lost: boolean;
  /** Served a file before. */
  used: boolean;
}

export interface StopOptions {
  /**
   * Keep free databases as spares for the next run, as many as are prepared ahead: for a server
   * that outlives the run (a URL target, Kind, a reused embedded server). @default false
   */
  readonly keepSpares?: boolean;
  /** Then drop every database under the run's prefix (what is not kept). @default false */
  readonly dropRun?: boolean;
}

interface Waiter {
  readonly grant: (database: Leasable) => void;
  readonly fail: (error: Error) => void;
}

/** Tables of ours and goose's that migrating writes and tests do not: no reset needed. */
const LEDGERS = [LEDGER_TABLE, LEDGER_LOCK_TABLE, CHECKSUM_TABLE, RELATIONS_TABLE, GOOSE_TABLE];

/**
 * The databases of one `isolate: 'file'` run, handed to test files by lease. Runs in the
 * global setup's process, which outlives every test file; workers ask over TCP on 127.0.0.1
 * (lease-listener.ts, lease-database.ts), with the run's random token.
 *
 * Each test file leases a copy of the template for as long as it runs. When the file ends —
 * it says so, or its worker exits, crashes or is killed, which closes the connection alike —
 * the copy is put back as migrating left it (recycle-sql.ts: rows reset from the seed
 * snapshot, in one statement) and leased to the next file. A copy whose schema the file
 * changed, or to which it left connections open, is dropped instead. Where recycling is not possible
 * (no superuser, no snapshot, tables the snapshot does not cover) every file gets a fresh
 * copy and each is dropped when its file ends. So a suite of many files makes about as many
 * copies as it runs files at once, and the work per file — a reset — happens after the file,
 * off its path, while the next file starts on a database already there.
 *
 * Copies are made one at a time on one connection, under the template's lock shared (a
 * rebuild waits). Teardown: stop(), then the run's prefix is dropped (file-isolation.ts).
 *
 * @example
 * ```ts
 * const leases = await DatabaseLeases.start(admin, template, prefix, Promise.resolve({ ahead: 2 }));
 * env.E2E_MIGRATIONS_LEASES = leases.address; // the workers' leaseDatabase() calls it
 * // … tests …
 * const { leased, recycled } = await leases.stop();
 * ```
 */
export class DatabaseLeases {
  readonly #connection: ConnectionInfo;
  readonly #template: string;
  readonly #prefix: string;
  #listener: LeaseListener<Leasable> | undefined;
  readonly #free: Leasable[] = [];
  readonly #waiters: Waiter[] = [];
  /** Every database copied and not yet dropped, leased or not: stop() closes their connections. */
  readonly #all = new Set<Leasable>();
  /** Work in progress (resets, drops), which stop() waits for. */
  readonly #pending = new Set<Promise<void>>();
  #admin: Promise<pg.Client> | undefined;
  #ahead = 0;
  #total = Number.POSITIVE_INFINITY;
  #creating = false;
  #resetting = 0;
  /** undefined until the first copy says; then whether databases go back to the pool. */
  #recycle: boolean | undefined;
  #singleUse: string | undefined;
  #stopped = false;
  #error: string | undefined;
  #made = 0;
  #leased = 0;
  /** Leases granted and not yet given back, and who waits for that to reach 0 (stop()). */
  #held = 0;
  #onAllBack: (() => void) | undefined;
  #recycled = 0;
  #discarded = 0;
  #fromSpares = 0;
  /** The template's record when the first copy was made; another run's ensure changes it. */
  #templateMark: string | null | undefined;
  readonly #changes = new Set<string>();

  private constructor(connection: ConnectionInfo, template: string, prefix: string) {
    this.#connection = connection;
    this.#template = template;
    this.#prefix = prefix;
  }

  /**
   * Listens on 127.0.0.1 (a free port) and starts copying as soon as `sizing` is known; returns
   * once listening, without waiting for a copy. `connection`: where copies are made (the
   * target's database, or the server's admin database when that is itself a copy).
   */
  static async start(connection: ConnectionInfo, template: string, prefix: string, sizing: LeaseSizing | Promise<LeaseSizing>): Promise<DatabaseLeases> {
    assertTemplateName(template);
    assertClonePrefix(prefix);
    const leases = new DatabaseLeases(connection, template, prefix);
    leases.#listener = await LeaseListener.listen<Leasable>({
      take: () => leases.#take(),
      granted: (database) => {
        leases.#leased++;
        leases.#held++;
        if (database.used) leases.#recycled++;
        database.used = true;
      },
      released: (database) => {
        leases.#held--;
        leases.#giveBack(database);
        if (leases.#held === 0) leases.#onAllBack?.();
      },
      unclaimed: (database) => leases.#offer(database), // untouched: free as it was
    });
    // The first copy starts now: a run has at least one file, and the sizing may take a while
    // (Vitest globs its files); the rest follow once it is known.
    leases.#ahead = 1;
    leases.#work();
    void Promise.resolve(sizing).then(
      (size) => {
        leases.#ahead = Math.max(1, Math.min(LEASES_AHEAD_CAP, Math.floor(size.ahead)));
        leases.#total = size.total ?? Number.POSITIVE_INFINITY;
        leases.#work();
      },
      () => undefined, // one ahead, then on demand
    );
    return leases;
  }

  /** For the workers (E2E_MIGRATIONS_LEASES): `<token>@127.0.0.1:<port>`. The token is the run's secret: not for logs. */
  get address(): string {
    return this.#listener!.address;
  }

  /** The port only, for messages. */
  get port(): number {
    return this.#listener!.port;
  }

  /**
   * Stops leasing: closes the listener and every worker's connection (a file still running
   * loses nothing: its database stays until the run's prefix is dropped), waits for the copy,
   * resets and drops in progress, closes our connections. Idempotent.
   */
  async stop(options: StopOptions = {}): Promise<LeaseSummary> {
    if (!this.#stopped && options.keepSpares && this.#held > 0) {
      // The last files' workers may still be exiting (a Vitest worker gives its clone back by
      // exiting, which can end after the run's teardown began): a clone given back within
      // moments is reset and can be kept; one held longer is dropped with the run.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RELEASE_GRACE_MS);
        this.#onAllBack = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#onAllBack = undefined;
    }
    if (!this.#stopped) {
      this.#stopped = true;
      for (const waiter of this.#waiters.splice(0)) waiter.fail(new Error('the run is ending'));
      await this.#listener?.close();
    }
    // The free ones' connections first: their backends exit while the rest settles, and a
    // database is renamed (kept) or dropped only once nobody is connected to it.
    const ending = this.#free.map((database) => {
      const client = database.client;
      database.client = undefined;
      return client?.end().catch(() => undefined);
    });
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    await Promise.allSettled([...ending, ...[...this.#all].map((database) => database.client?.end())]);
    this.#all.clear();
    const kept = options.keepSpares ? await this.#keep(this.#ahead).catch(() => 0) : 0; // a spare is a saving, never a failure
    let dropped: readonly string[] | undefined;
    if (options.dropRun && this.#admin) {
      // On the connection at hand: teardown need not open another to drop a clone or two.
      const admin = await this.#admin.catch(() => undefined);
      dropped = admin ? await dropRun(admin, this.#prefix).catch(() => undefined) : undefined;
    }
    const admin = this.#admin;
    this.#admin = undefined;
    await admin?.then((client) => client.end()).catch(() => undefined);
    return Object.freeze({
      fromSpares: this.#fromSpares,
      kept,
      ...(dropped ? { dropped } : {}),
      made: this.#made,
      leased: this.#leased,
      recycled: this.#recycled,
      discarded: this.#discarded,
      changes: Object.freeze([...this.#changes].sort()),
      ...(this.#singleUse ? { singleUse: this.#singleUse } : {}),
      ...(this.#error ? { error: this.#error } : {}),
    });
  }

  /**
   * Renames up to `keep` free databases — reset, clean, watched — to spares of the template
   * (fewer when spares are there already), for the next run's first files to take. None when
   * the template was ensured by another run meanwhile (it may have been migrated again: its
   * spares would be copies of what it was), nor when databases are single-use.
   */
  async #keep(keep: number): Promise<number> {
    const free = this.#free.splice(0);
    if (keep <= 0 || free.length === 0 || !this.#recycle || !this.#admin) return 0;
    const admin = await this.#admin;
    return withTemplateShared(admin, this.#template, async () => {
      if ((await templateMark(admin, this.#template)) !== this.#templateMark) return 0;
      const there = (await listSpares(admin, this.#template)).length;
      let kept = 0;
      for (const database of free.slice(0, Math.max(0, keep - there))) {
        if (await renameWhenClosed(admin, database.name, spareName(this.#template))) kept++;
      }
      return kept;
    });
  }

  // --- the workers' side (lease-listener.ts calls these) ---------------------------------------

  #take(): Promise<Leasable> {
    if (this.#stopped) return Promise.reject(new Error('the run is ending'));
    if (this.#error !== undefined && this.#free.length === 0 && this.#resetting === 0) return Promise.reject(this.#copyFailure());
    const free = this.#free.shift();
    if (free) {
      this.#work();
      return Promise.resolve(free);
    }
    return new Promise<Leasable>((grant, fail) => {
      this.#waiters.push({ grant, fail });
      this.#work();
    });
  }

  /** A database ready for a file: to the first waiting, else to the free ones (which stop() may keep as spares). */
  #offer(database: Leasable): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter.grant(database);
    else this.#free.push(database);
  }

  /** A file is done with `database`: put it back as migrating left it, or drop it. */
  #giveBack(database: Leasable): void {
    if (this.#stopped) return;
    if (!this.#recycle || !database.client || database.lost) {
      this.#discard(database);
      return;
    }
    this.#resetting++;
    this.#track(
      database.client
        .query<{ result: { changed?: string; open?: boolean } }>(`select ${RECYCLE_FUNCTION}($1::bigint, $2::int) as result`, [DELETE_MAX_BYTES, LOCK_TIMEOUT_MS])
        .then(
          ({ rows }) => {
            const { changed, open } = rows[0]!.result;
            if (changed === undefined) this.#offer(database);
            else {
              for (const change of changed.split(', ')) this.#changes.add(change);
              // With connections open, dropping now would end them under a running worker.
              this.#discard(database, { drop: !open });
            }
          },
          () => this.#discard(database), // a lock it could not get, a lost connection: a fresh copy instead
        )
        .finally(() => {
          this.#resetting--;
          this.#work();
        }),
    );
  }

  /** Never leased again; dropped now unless `drop` is false (teardown drops the run's prefix anyway). */
  #discard(database: Leasable, { drop = true } = {}): void {
    this.#discarded++;
    this.#all.delete(database);
    const client = database.client;
    database.client = undefined;
    this.#track(
      (async () => {
        await client?.end().catch(() => undefined);
        // On the leases' own connection: a single-use run discards a database per file.
        const admin = drop && !this.#stopped ? await this.#admin?.catch(() => undefined) : undefined;
        await admin?.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(database.name)} WITH (FORCE)`).catch(() => undefined);
      })(),
    );
    this.#work();
  }

  #track(work: Promise<void>): void {
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
  }

  // --- making copies -------------------------------------------------------------------------

  /** Makes the next copy when one is wanted and none is being made. */
  #work(): void {
    if (this.#stopped || this.#creating || this.#error !== undefined) return;
    const coming = this.#free.length + this.#resetting;
    const wanted =
      this.#made < this.#ahead || // the first files start together
      this.#waiters.length > coming || // files wait and nothing is on its way back
      (this.#recycle === false && this.#free.length < this.#ahead && this.#made < this.#total); // single-use: keep some ready
    if (!wanted) return;
    this.#creating = true;
    this.#track(
      this.#copy()
        .then(
          (database) => this.#offer(database),
          (error: unknown) => {
            if (this.#stopped) return;
            this.#error ??= (error as Error).message;
            for (const waiter of this.#waiters.splice(0)) waiter.fail(this.#copyFailure());
          },
        )
        .finally(() => {
          this.#creating = false;
          this.#work();
        }),
    );
  }

  #copyFailure(): Error {
    return new Error(`no copy of the template "${this.#template}" could be made: ${this.#error}`);
  }

  /**
   * A spare an earlier run kept (stop({ keepSpares })) is taken by a rename, a catalog update of a
   * millisecond; only without one is the template copied, which costs the server hundreds of
   * milliseconds of file creation on a disk that has seen many databases come and go.
   */
  async #copy(): Promise<Leasable> {
    const admin = await (this.#admin ??= openClient(this.#connection, 'e2e-migrations leases'));
    const name = cloneName(this.#prefix);
    await withTemplateShared(admin, this.#template, async () => {
      this.#templateMark ??= await templateMark(admin, this.#template);
      if (await claimSpare(admin, this.#template, name)) {
        this.#fromSpares++;
        await writeRecord(admin, name, await cloneRecord()); // this run's now
      } else {
        await cloneAs(admin, this.#template, name);
      }
    });
    this.#made++;
    const database: Leasable = { name, client: undefined, lost: false, used: false };
    this.#all.add(database);
    if (this.#recycle === false) return database;
    const client = await openClient({ ...this.#connection, database: name }, 'e2e-migrations leases');
    client.on('error', () => void (database.lost = true));
    client.on('end', () => void (database.lost = true));
    try {
      if (this.#recycle === undefined) await this.#decide(client);
      if (this.#recycle) {
        await client.query(INSTALL_WATCH_SQL);
        database.client = client;
        return database;
      }
    } catch (error) {
      // Recycling is an optimisation: without it every file still gets a fresh copy.
      if (this.#recycle === undefined) {
        this.#recycle = false;
        this.#singleUse = `the watch for schema changes could not be installed: ${(error as Error).message}`;
      }
    }
    await client.end().catch(() => undefined);
    return database;
  }

  /** Asked of the first copy (they are all alike): can the run's databases be put back? */
  async #decide(client: pg.Client): Promise<void> {
    const { rows } = await client.query<{ superuser: boolean; reset: boolean }>(RECYCLE_PREREQUISITES_SQL);
    const { superuser, reset } = rows[0]!;
    let reason: string | undefined;
    if (!superuser) reason = `user "${this.#connection.user}" is no superuser, and only a superuser may watch for schema changes (event triggers)`;
    else if (!reset) reason = 'the template has no seed snapshot to reset from';
    else {
      const uncovered = (await client.query<{ name: string }>(UNCOVERED_TABLES_SQL, [LEDGERS])).rows.map((row) => row.name);
      if (uncovered.length) reason = `the seed snapshot does not cover ${uncovered.join(', ')}`;
    }
    this.#recycle = reason === undefined;
    this.#singleUse = reason;
  }
}

/** Drops the databases under `prefix`, WITH (FORCE) (a file's connections left open end here); returns their names. */
async function dropRun(admin: pg.Client, prefix: string): Promise<string[]> {
  const { rows } = await admin.query<{ datname: string }>('select datname from pg_database where starts_with(datname, $1) order by datname', [prefix]);
  for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(datname)} WITH (FORCE)`);
  return rows.map((row) => row.datname);
}

/**
 * Renames `from` once the connection we just closed to it is gone (a backend takes a moment to
 * exit after its client left; until then Postgres refuses, 55006). False if it never was.
 */
async function renameWhenClosed(admin: pg.Client, from: string, to: string): Promise<boolean> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      await admin.query(`ALTER DATABASE ${admin.escapeIdentifier(from)} RENAME TO ${admin.escapeIdentifier(to)}`);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code !== '55006') throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  return false;
}

/** The template's COMMENT (its record: when a run last ensured it), as a marker of change. */
async function templateMark(admin: pg.Client, template: string): Promise<string | null> {
  const { rows } = await admin.query<{ mark: string | null }>("select shobj_description(oid, 'pg_database') as mark from pg_database where datname = $1", [template]);
  return rows[0]?.mark ?? null;
}
