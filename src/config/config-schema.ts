import * as z from 'zod';
import { parseHostPort } from './host-port.ts';

const name = z.string().min(1, 'must not be empty');

/**
 * The `migrations` block: what the CLI flags, the API and the test-runner configs accept.
 * Strict: an unknown key is an error naming it. Defaults live in defaults.ts.
 */
export const migrationConfigSchema = z.strictObject({
  /** Where Postgres is. Inferred when absent: `url` → url; Kind keys → kind; else embedded. */
  target: z.enum(['embedded', 'url', 'kind']).optional(),
  /** A reachable Postgres, `postgres://user:password@host:port/database`. */
  url: z
    .string()
    .refine((value) => /^postgres(ql)?:\/\//.test(value) && URL.canParse(value), 'must be a postgres:// URL')
    .optional(),
  /** Kind: namespace of the Postgres Service (required for the Kind target). */
  namespace: name.optional(),
  /** Kind: kubeconfig path. @default $KUBECONFIG or ~/.kube/config */
  kubeconfig: name.optional(),
  /** Kind: context in the kubeconfig. @default its current-context */
  context: name.optional(),
  /** Kind: cluster name; the kubeconfig then comes from `kind get kubeconfig --name`. */
  kindCluster: name.optional(),
  /** Kind: the Postgres Service. @default 'postgresql' */
  service: name.optional(),
  /** Kind: the Postgres port in the pod. @default 5432 */
  port: z.int().min(1).max(65535).optional(),
  /** Kind: a Secret with POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB. */
  secret: name.optional(),
  /** @default 'slm_user' */
  user: name.optional(),
  /** @default 'test_password' */
  password: z.string().optional(),
  /** @default 'action_history' */
  database: name.optional(),
  /** Tables (and views) the suite needs; their dependencies come along. @default 'all' */
  tables: z.union([z.literal('all'), z.array(name)], { error: 'must be "all" or an array of table names' }).optional(),
  /** A directory of Kysely migrations or goose SQL files. @default the shipped DS schema */
  migrations: name.optional(),
  /** The rolling window of monthly partitions. @default { monthsBack: 1, monthsAhead: 3, tables: [] } */
  partitions: z
    .strictObject({
      monthsBack: z.int().min(0).max(120).optional(),
      monthsAhead: z.int().min(0).max(120).optional(),
      /**
       * Range-partitioned tables (of any source, e.g. a goose directory's `audit_events`) whose
       * monthly partitions every apply keeps rolling over the window, named as their existing
       * partitions are (`audit_events_2026_11`, `audit_events_y2026m11`, …), so a fixed list of
       * months in a migration never runs out. Each must be range-partitioned once migrated.
       */
      tables: z.array(z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case table name')).optional(),
    })
    .optional(),
  /**
   * goose directories: apply a never-applied version below the newest applied one instead of
   * refusing it, as `goose up -allow-missing` does. @default false
   */
  allowMissing: z.boolean().optional(),
  /** Kind: how long to wait for a Ready pod, in ms. @default 300000 */
  readyTimeoutMs: z.int().positive().optional(),
  /**
   * Kind: how to reach Postgres. `auto` uses the Service's NodePort when one answers (at
   * `nodeAddress`, the host port the Kind node maps to it, or the node's InternalIP), else a
   * port-forward; `nodeport` requires the NodePort; `port-forward` never tries it. @default 'auto'
   */
  transport: z.enum(['auto', 'nodeport', 'port-forward'], { error: 'must be "auto", "nodeport" or "port-forward"' }).optional(),
  /** Kind: where this machine reaches the Service's NodePort, `host:port` (a Kind extraPortMappings host port). */
  nodeAddress: z
    .string()
    .refine((value) => parseHostPort(value) !== undefined, 'must be host:port, e.g. 127.0.0.1:25433')
    .optional(),
  /**
   * How long to wait for the migration lock another run holds, in ms; past it the run fails
   * naming the holder. @default 60000
   */
  lockTimeoutMs: z.int().positive().optional(),
  /** Verify the tables after migrating. @default true */
  verify: z.boolean().optional(),
  /**
   * Embedded, in a runner whose projects share one server: work in the database named
   * `database` together with the other projects that say so, instead of a database of the
   * project's own. @default false
   */
  shareDatabase: z.boolean().optional(),
  /**
   * Embedded: keep the server running after the run for the next run to find (same Postgres
   * version, user and password), which then skips the start; each run works in a fresh
   * database cloned from the template of its migrations. The server listens on 127.0.0.1, stops
   * itself after 15 minutes without a client, and `e2e-migrations stop` stops it now. Ignored,
   * with a note, when the `CI` environment variable is set. @default false
   */
  reuse: z.boolean().optional(),
  /**
   * Test runners only: `'file'` gives each test file (or worker) its own database, cloned with
   * `CREATE DATABASE … TEMPLATE` from a template migrated once and named by the hash of the
   * migrations' checksums; clones are dropped at teardown. Needs a user that may create
   * databases. Ignored by the CLI and `prepareDatabase`. @default false
   */
  isolate: z.union([z.literal(false), z.literal('file')], { error: 'must be "file" or false' }).optional(),
});

export type MigrationConfigInput = z.input<typeof migrationConfigSchema>;
