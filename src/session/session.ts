import type { ResolvedConfig } from '../config/resolve-config.ts';
import { E2eMigrationsError } from '../errors/errors.ts';
import type { LoadedMigration, MigrationSet } from '../migrate/loaded-migration.ts';
import { loadMigrations } from '../migrate/load-migrations.ts';
import { migrate, type MigrateResult } from '../migrate/migrate.ts';
import { selectMigrations } from '../migrate/select-migrations.ts';
import { connect, type Postgres } from '../postgres/connect.ts';
import { createDatabaseFromTemplate } from '../provide/database-from-template.ts';
import { claimSpare, dropSpares, requestSpare } from '../provide/spare-database.ts';
import { ensureTemplate, type TemplateResult } from '../provide/template.ts';
import type { Reporter, StageName, StageProgress } from '../report/reporter.ts';
import { openTarget } from '../target/open-target.ts';
import type { StartedTarget } from '../target/target.ts';
import { teardownOnInterrupt } from '../teardown/interrupt.ts';
import { TeardownStack } from '../teardown/teardown-stack.ts';
import { expectedGooseRelations } from '../verify/expected-relations.ts';
import { verifySchema } from '../verify/verify-schema.ts';

export interface SessionOptions {
  readonly reporter: Reporter;
  /** The clock for partitions and verification. @default new Date() */
  readonly now?: Date;
  /** Close the session on SIGINT/SIGTERM (the CLI and the runners; not a library caller). @default false */
  readonly interruptible?: boolean;
  /**
   * An embedded target joins the server this process already runs for another session (the
   * projects of one Vitest or Jest run), in a database of its own. @default false
   */
  readonly shareServer?: boolean;
}

/** Which migrations a run needs, decided before anything starts. */
export interface Plan {
  readonly set: MigrationSet;
  /** The selected migrations and their dependencies, in application order. */
  readonly migrations: readonly LoadedMigration[];
  /**
   * The relations they create, as a Kysely set declares them; for a goose directory, the
   * tables the block declares (what else it leaves is read from the database after applying).
   */
  readonly tables: readonly string[];
}

export interface StepOptions {
  /** Run inside the caller's stage instead of as a reported stage of its own. @default false */
  readonly quiet?: boolean;
}

const SILENT: StageProgress = Object.freeze({ waitingFor: () => undefined, done: () => undefined, note: () => undefined });

/** A slow migration is named in the progress after this long, and again each time as long. */
const SLOW_MIGRATION_MS = 2_000;

/**
 * One run: config → target → migrate → verify, with one teardown. Every entry point (API,
 * CLI, both runners, the watch-mode recheck, the isolation template) goes through a session.
 *
 * Everything the session opens goes on its teardown stack the moment it opens, so `close()`
 * — called by the caller, by `await using`, by a signal, or by a failed `open()` — closes it
 * all in reverse order, once.
 *
 * @example
 * ```ts
 * await using session = await Session.open(resolveConfig(block), { reporter });
 * const result = await session.migrate();
 * await session.verify();
 * ```
 */
export class Session implements AsyncDisposable {
  readonly config: ResolvedConfig;
  readonly reporter: Reporter;
  readonly now: Date;
  readonly plan: Plan;
  readonly stack = new TeardownStack();
  readonly #abort = new AbortController();
  #target: StartedTarget | undefined;
  #database: Promise<Postgres> | undefined;
  #closing: Promise<void> | undefined;
  #template: Promise<TemplateResult> | undefined;
  /** Set once a `provision` target's database was cloned from the template (false: it existed). */
  #provisioned: { readonly template: TemplateResult; readonly created: boolean } | undefined;
  readonly #teardownNotes: string[] = [];

  private constructor(config: ResolvedConfig, options: SessionOptions, plan: Plan) {
    this.config = config;
    this.reporter = options.reporter;
    this.now = options.now ?? new Date();
    this.plan = plan;
  }

  /**
   * Plans (a bad migrations directory, and a Kysely set's unknown tables, fail here, before
   * any server starts or any connection is made; a goose directory's tables are checked once it
   * is applied), then brings the target up. A failure closes what was opened.
   */
  static async open(config: ResolvedConfig, options: SessionOptions): Promise<Session> {
    const set = await loadMigrations(config.migrations);
    const migrations = selectMigrations(set, config.tables);
    const tables = set.kind === 'goose' ? config.tables : migrations.flatMap((m) => m.tables);
    const session = new Session(config, options, Object.freeze({ set, migrations, tables: Object.freeze([...tables]) }));
    if (options.interruptible) {
      const disarm = teardownOnInterrupt(() => session.close(), (signal) => session.reporter.info(`${signal}: tearing down before exit`));
      session.stack.defer('signal handlers', disarm);
    }
    try {
      session.#target = await openTarget(config, {
        stage: session.stage,
        stack: session.stack,
        reporter: session.reporter,
        signal: session.#abort.signal,
        shareServer: options.shareServer ?? false,
      });
    } catch (error) {
      await session.close().catch((closeError: unknown) => session.reporter.warn(`teardown after a failed start also failed: ${(closeError as Error).message}`));
      throw error;
    }
    return session;
  }

  /** The started target; its connection holds the password: never print it. */
  get target(): StartedTarget {
    if (!this.#target) throw new E2eMigrationsError('the session has no target yet');
    return this.#target;
  }

  /**
   * Runs `body` as a reported stage. A failure leaves as one of our errors, marked with the
   * stage it failed in; anything foreign is wrapped (keeping it as `cause`), never altered.
   */
  readonly stage = async <T>(name: StageName, body: (progress: StageProgress) => Promise<T>): Promise<T> => {
    try {
      return await this.reporter.stage(name, body);
    } catch (error) {
      const ours = E2eMigrationsError.from(error, `${name} failed unexpectedly`);
      ours.stage ??= name;
      throw ours;
    }
  };

  /**
   * A connection to `database` on the target's server (default: the target's database), on
   * the teardown stack. The target's own database is connected once and shared.
   */
  connect(database?: string): Promise<Postgres> {
    const own = database === undefined || database === this.target.connection.database;
    if (own && this.#database) return this.#database;
    const connecting = connect({ ...this.target.connection, ...(database ? { database } : {}) }).then((pg) => this.stack.use(`connection to ${pg.connection.host}:${pg.connection.port}/${pg.connection.database}`, pg));
    if (own) {
      this.#database = connecting;
      connecting.catch(() => (this.#database = undefined));
    }
    return connecting;
  }

  /**
   * Applies what the plan lacks on `pg` (default: the target's database), as the `migrate`
   * stage; `{ quiet: true }` runs it inside the caller's stage (the isolation template).
   */
  migrate(pg?: Postgres, options: StepOptions = {}): Promise<MigrateResult> {
    return this.#step('migrate', options, async (progress) => {
      const { connection } = this.target;
      if (!pg && this.target.provision && !this.#provisioned) {
        const provisioned = await this.#provision(progress);
        if (provisioned) return provisioned;
      }
      progress.waitingFor(`Postgres at ${connection.host}:${connection.port} to accept user "${connection.user}"`);
      const db = pg ?? (await this.connect());
      const { set, migrations } = this.plan;
      const total = migrations.length;
      let slow: NodeJS.Timeout | undefined;
      try {
        const result = await migrate(db, set, migrations, {
          now: this.now,
          partitions: { monthsBack: this.config.partitions.monthsBack, monthsAhead: this.config.partitions.monthsAhead },
          partitionTables: this.config.partitions.tables,
          allowMissing: this.config.allowMissing,
          tables: this.config.tables,
          lock: { timeoutMs: this.config.lockTimeoutMs, onWait: (holder) => progress.waitingFor(`the migration lock, held by ${holder}`) },
          onApplying: (migration) => {
            clearInterval(slow);
            const index = migrations.indexOf(migration) + 1;
            const started = Date.now();
            slow = setInterval(() => progress.note(`applying ${migration.name} (${index} of ${total}) for ${Math.round((Date.now() - started) / 1000)} s`), SLOW_MIGRATION_MS);
            slow.unref();
          },
        });
        const tables = this.config.tables;
        progress.done(
          `${result.applied.length} applied, ${result.alreadyApplied.length} already applied` +
            (tables.length ? ` (for ${tables.join(', ')})` : ' (all tables)') +
            (result.partitionsCreated.length ? `, ${result.partitionsCreated.length} partitions created` : ''),
        );
        return result;
      } finally {
        clearInterval(slow);
      }
    });
  }

  /** Checks the plan's tables on `pg` (default: the target's database), as the `verify` stage. */
  verify(pg?: Postgres, options: StepOptions = {}): Promise<void> {
    return this.#step('verify', options, async (progress) => {
      if (!pg && this.#provisioned?.created && this.config.verify) {
        // A copy taken of the template right after the template was verified, under its lock.
        const n = this.plan.tables.length;
        progress.done(`${n} table${n === 1 ? '' : 's'} match (checked on template ${this.#provisioned.template.name}, of which ${this.target.connection.database} is a copy)`);
        return;
      }
      const db = pg ?? (await this.connect());
      const { set } = this.plan;
      const { tables, note } = set.kind === 'goose' ? await expectedGooseRelations(db, set, this.plan.tables) : { tables: this.plan.tables, note: undefined };
      await verifySchema(db, { tables, now: this.now, ...(set.schema ? { schema: set.schema } : {}) });
      progress.done(`${tables.length} table${tables.length === 1 ? '' : 's'} match${note ? `; ${note}` : ''}`);
    });
  }

  /**
   * The migrated, verified template of this plan on the target's server, built or reused once
   * per session (see provide/template.ts).
   */
  template(): Promise<TemplateResult> {
    const building = (this.#template ??= ensureTemplate(this));
    building.catch(() => (this.#template = undefined));
    return building;
  }

  /**
   * A `provision` target: creates the session's database as a clone of the template. Returns
   * what migrating the template did, or undefined when the database existed already (shared
   * with another project), which the caller then migrates as usual.
   */
  async #provision(progress: StageProgress): Promise<MigrateResult | undefined> {
    const { connection, provision } = this.target;
    progress.waitingFor(`the template database of these migrations on ${connection.host}:${connection.port}`);
    const template = await this.template();
    const { migrations } = template;
    const admin = await this.connect(provision!.adminDatabase);
    // Spares copied before the template was migrated again are stale (provide/spare-database.ts).
    if (template.built || migrations.applied.length > 0 || migrations.partitionsCreated.length > 0) await dropSpares(admin, template.name);
    progress.waitingFor(`a copy of ${template.name} as ${connection.database}`);
    const spare = await claimSpare(admin.client, template.name, connection.database);
    const created = spare || (await createDatabaseFromTemplate(admin, template.name, connection.database));
    // Whoever keeps the server (reuse) makes the next run's spare now; nobody listening is fine.
    await requestSpare(admin, template.name).catch(() => undefined);
    this.#provisioned = Object.freeze({ template, created });
    if (!created) return undefined;
    progress.done(
      `${connection.database} ${spare ? 'taken from a spare copy of' : 'copied from'} template ${template.name} (${template.built ? `built: ${migrations.applied.length} applied` : 'reused'}` +
        (migrations.partitionsCreated.length ? `, ${migrations.partitionsCreated.length} partitions created` : '') +
        ')',
    );
    return migrations;
  }

  #step<T>(name: StageName, options: StepOptions, body: (progress: StageProgress) => Promise<T>): Promise<T> {
    return options.quiet ? body(SILENT) : this.stage(name, body);
  }

  /** Closes the target database's shared connection (the runners do, before the tests run). */
  async disconnect(): Promise<void> {
    const database = this.#database;
    this.#database = undefined;
    await (await database?.catch(() => undefined))?.close();
  }

  /** Adds a phrase to the teardown line (what a clean-up step did, e.g. clones dropped). */
  noteTeardown(text: string): void {
    this.#teardownNotes.push(text);
  }

  /** Closes everything the session opened, newest first, as the `teardown` stage; idempotent. */
  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      this.#abort.abort();
      const what = this.#target?.description;
      await this.stage('teardown', async (progress) => {
        await this.stack.close();
        progress.done([...this.#teardownNotes, what ? `closed ${what}` : 'nothing was open'].join('; '));
      });
    })());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
