import * as z from 'zod';

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
  /** The rolling window of monthly partitions. @default { monthsBack: 1, monthsAhead: 3 } */
  partitions: z
    .strictObject({
      monthsBack: z.int().min(0).max(120).optional(),
      monthsAhead: z.int().min(0).max(120).optional(),
    })
    .optional(),
  /** Kind: how long to wait for a Ready pod, in ms. @default 300000 */
  readyTimeoutMs: z.int().positive().optional(),
  /**
   * How long to wait for the migration lock another run holds, in ms; past it the run fails
   * naming the holder. @default 60000
   */
  lockTimeoutMs: z.int().positive().optional(),
  /** Verify the tables after migrating. @default true */
  verify: z.boolean().optional(),
  /**
   * Test runners only: `'file'` gives each test file (or worker) its own database, cloned with
   * `CREATE DATABASE … TEMPLATE` from a template migrated once and named by the hash of the
   * migrations' checksums; clones are dropped at teardown. Needs a user that may create
   * databases. Ignored by the CLI and `prepareDatabase`. @default false
   */
  isolate: z.union([z.literal(false), z.literal('file')], { error: 'must be "file" or false' }).optional(),
});

export type MigrationConfigInput = z.input<typeof migrationConfigSchema>;
