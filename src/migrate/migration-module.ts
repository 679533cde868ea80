import type { Kysely } from 'kysely';

/** How far around the current month rolling monthly partitions reach. */
export interface PartitionWindow {
  /** Whole months before the current one. @default 1 */
  readonly monthsBack: number;
  /** Whole months after the current one. @default 3 */
  readonly monthsAhead: number;
}

/** What a migration's `maintain` step gets on every apply. */
export interface MaintainContext {
  /** The clock the run uses; partitions are computed from its UTC date. */
  readonly now: Date;
  readonly partitions: PartitionWindow;
}

/** What a migration declares about itself so a selection can be planned. */
export interface MigrationMeta {
  /** Relations (tables and views) that this migration creates. */
  readonly tables: readonly string[];
  /** Names (file base names) of migrations that must be applied first. */
  readonly dependsOn: readonly string[];
  /**
   * Tables this migration creates that are range-partitioned by month (on a date column):
   * every apply keeps a partition for each month of the `partitions` window, named
   * `<table>_YYYY_MM`, so no calendar date can outrun them. Declared rather than coded, so
   * a run with nothing to apply needs neither Kysely nor the migration's module.
   */
  readonly monthlyPartitions?: readonly string[];
}

/**
 * The shape of a file in `migrations/`: Kysely's `up`/`down` plus what the planner needs.
 *
 * `maintain` exists for other work that must follow the calendar. It is kept out of `up` on
 * purpose: `up` is checksummed and must not change from one month to the next, while
 * `maintain` runs on every apply that selects the migration, idempotently. Prefer
 * `meta.monthlyPartitions` for partitions.
 *
 * @example
 * ```ts
 * export const meta: MigrationMeta = { tables: ['notification_audit'], dependsOn: [] };
 * export async function up(db: Kysely<any>) { await db.schema.createTable('notification_audit')…execute(); }
 * export async function down(db: Kysely<any>) { await db.schema.dropTable('notification_audit').execute(); }
 * ```
 */
export interface MigrationModule {
  readonly meta: MigrationMeta;
  up(db: Kysely<any>): Promise<void>;
  down(db: Kysely<any>): Promise<void>;
  maintain?(db: Kysely<any>, context: MaintainContext): Promise<void>;
}
