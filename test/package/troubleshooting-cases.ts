import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { createClusterPki, startKubeSimulator, type KubeSimulator } from '../../fixtures/k8s-simulator/index.ts';
import { formatConnectionString, type ConnectionInfo } from '../../src/postgres/connection-string.ts';
import { freePort } from '../../src/util/free-port.ts';
import { freshDatabase } from '../support/fresh-database.ts';
import { kubeconfigFiles, type KubeconfigFiles } from '../target/kind/kubeconfig-files.ts';
import { withClient } from '../support/with-client.ts';

/*
 * The situations of the README's troubleshooting table, each made real: a wrong key, a database
 * that refuses the login, a lock another run holds, a Kind cluster whose kubeconfig is stale…
 * The table's rows name their case (`<!-- case: id -->`); readme.test.ts meets each case under
 * the runners and the CLI the row gives exit codes for, and checks the line the row shows.
 */

export type Runner = 'vitest' | 'jest' | 'cli';

/** What one runner is given for one case. */
export interface CaseSetup {
  /** The `migrations` block (Vitest's `test.migrations`, Jest's `testEnvironmentOptions.migrations`). */
  readonly block?: Record<string, unknown>;
  /** Jest config keys besides the block (e.g. `testEnvironment`). */
  readonly jestConfig?: Record<string, unknown>;
  /** `e2e-migrations …` arguments. */
  readonly cli?: readonly string[];
  /** The Node that runs the CLI (default: this one). */
  readonly node?: string;
}

export interface TroubleCase {
  readonly id: string;
  /** Which runners meet this case; the README row must give an exit code for exactly these. */
  readonly runners: readonly Runner[];
  /** Makes what `runner` needs, in `resources` (closed after all cases). */
  setup(runner: Runner, resources: Resources): Promise<CaseSetup>;
}

const NAMESPACE = 'kubernaut-system';
const UNREACHABLE = 'postgres://slm_user:never-shown-pw@127.0.0.1:1/action_history';
const BOTH: readonly Runner[] = ['vitest', 'jest'];
const ALL: readonly Runner[] = ['vitest', 'jest', 'cli'];

/** Turns a block into the CLI flags that say the same (only the keys the cases use). */
function flags(block: Record<string, unknown>): string[] {
  const names: Record<string, string> = {
    url: '--url',
    kubeconfig: '--kubeconfig',
    context: '--context',
    namespace: '--namespace',
    kindCluster: '--kind-cluster',
    secret: '--secret',
    transport: '--transport',
    nodeAddress: '--node-address',
    readyTimeoutMs: '--ready-timeout',
    lockTimeoutMs: '--lock-timeout',
    migrations: '--migrations',
  };
  const args: string[] = [];
  for (const [key, value] of Object.entries(block)) {
    if (key === 'tables') args.push('--tables', (value as string[]).join(','));
    else if (names[key]) args.push(names[key], String(value));
    else throw new Error(`flags(): no flag for "${key}"`);
  }
  return args;
}

/** The same block for Vitest, Jest and (as `apply` flags) the CLI. */
function everywhere(block: Record<string, unknown>): CaseSetup {
  return { block, cli: ['apply', ...flags(block)] };
}

export const TROUBLE_CASES: readonly TroubleCase[] = [
  { id: 'bad-key', runners: BOTH, setup: async () => ({ block: { tabels: ['audit_events'] } }) },
  { id: 'unknown-flag', runners: ['cli'], setup: async () => ({ cli: ['apply', '--tabels', 'audit_events'] }) },
  { id: 'unknown-table', runners: ALL, setup: async () => everywhere({ tables: ['audit_evnts'] }) },
  { id: 'kind-key-without-namespace', runners: ALL, setup: async () => everywhere({ kindCluster: 'e2e', tables: ['audit_events'] }) },
  { id: 'verify-without-target', runners: ['cli'], setup: async () => ({ cli: ['verify', '--tables', 'audit_events'] }) },
  {
    id: 'jest-isolate-environment',
    runners: ['jest'],
    setup: async () => ({ block: { url: UNREACHABLE, isolate: 'file' } }),
  },
  {
    id: 'node-too-old',
    runners: ['cli'],
    setup: async (_runner, resources) => ({ cli: ['apply', '--url', UNREACHABLE], node: resources.oldNode ?? 'node-older-than-22.19-not-found' }),
  },
  {
    id: 'kubeconfig-unreadable',
    runners: ALL,
    setup: async (_runner, resources) => everywhere({ kubeconfig: join(resources.dir, 'no-such-kubeconfig'), namespace: NAMESPACE }),
  },
  {
    id: 'context-missing',
    runners: ALL,
    setup: async (_runner, resources) => everywhere({ kubeconfig: (await resources.sim('plain')).kubeconfigPath, context: 'kind-gateway', namespace: NAMESPACE }),
  },
  {
    id: 'certificate-foreign-ca',
    runners: ALL,
    setup: async (runner, resources) => {
      const files = await resources.kubeconfigs();
      const other = await createClusterPki({ clusterName: 'other', userName: 'kind-other', userGroups: [] });
      return everywhere({ kubeconfig: await files.write(`foreign-ca-${runner}`, { caCert: other.ca.cert }), namespace: NAMESPACE });
    },
  },
  {
    id: 'certificate-expired',
    runners: ALL,
    setup: async (runner, resources) => {
      const sim = await resources.sim('plain');
      const notAfter = new Date(Date.now() - 24 * 3_600_000);
      const expired = await sim.pki.issueClientCert('kind-e2e', ['kubeadm:cluster-admins'], { notBefore: new Date(notAfter.getTime() - 3_600_000), notAfter });
      const files = await resources.kubeconfigs();
      return everywhere({ kubeconfig: await files.write(`expired-${runner}`, { clientCert: expired.cert, clientKey: expired.key }), namespace: NAMESPACE });
    },
  },
  {
    id: 'cluster-not-running',
    runners: ALL,
    setup: async (runner, resources) => {
      const files = await resources.kubeconfigs();
      return everywhere({ kubeconfig: await files.write(`refused-${runner}`, { server: `https://127.0.0.1:${await freePort()}` }), namespace: NAMESPACE });
    },
  },
  // Where `kind` is installed the message is the other half of the row: the cluster is not there.
  { id: 'kind-missing', runners: ALL, setup: async () => everywhere({ kindCluster: 'no-such-cluster', namespace: NAMESPACE }) },
  {
    id: 'service-missing',
    runners: ALL,
    setup: async (_runner, resources) => everywhere({ kubeconfig: (await resources.sim('plain')).kubeconfigPath, namespace: 'gateway-e2e' }),
  },
  {
    id: 'pod-not-ready',
    runners: ALL,
    setup: async (_runner, resources) =>
      everywhere({ kubeconfig: (await resources.sim('not-ready')).kubeconfigPath, namespace: NAMESPACE, secret: 'postgresql-secret', readyTimeoutMs: 500 }),
  },
  {
    id: 'port-forward-forbidden',
    runners: ALL,
    setup: async (_runner, resources) =>
      everywhere({ kubeconfig: (await resources.sim('forbidden')).kubeconfigPath, namespace: NAMESPACE, secret: 'postgresql-secret', transport: 'port-forward' }),
  },
  {
    id: 'nodeport-unanswered',
    runners: ALL,
    setup: async (_runner, resources) =>
      everywhere({
        kubeconfig: (await resources.sim('nodeport')).kubeconfigPath,
        namespace: NAMESPACE,
        secret: 'postgresql-secret',
        transport: 'nodeport',
        nodeAddress: `127.0.0.1:${await freePort()}`,
      }),
  },
  { id: 'postgres-unreachable', runners: ALL, setup: async () => everywhere({ url: UNREACHABLE, tables: ['audit_events'] }) },
  {
    id: 'login-refused',
    runners: ALL,
    setup: async (_runner, resources) => {
      const db = await resources.database();
      return everywhere({ url: formatConnectionString({ ...db, password: 'not-the-password' }), tables: ['audit_events'] });
    },
  },
  {
    id: 'connection-lost',
    runners: ALL,
    setup: async (_runner, resources) => {
      const db = await resources.database();
      // Past the login and the ledger, into the migrations: the server "goes away" mid-run.
      const port = await resources.cuttingProxy(db, 20_000);
      return everywhere({ url: formatConnectionString({ ...db, host: '127.0.0.1', port }), tables: ['audit_events', 'notification_audit', 'remediation_workflow_catalog'] });
    },
  },
  {
    id: 'lock-held',
    runners: ALL,
    setup: async (_runner, resources) => {
      const db = await resources.database();
      await resources.holdMigrationLock(db);
      return everywhere({ url: formatConnectionString(db), tables: ['audit_events'], lockTimeoutMs: 500 });
    },
  },
  {
    id: 'migration-failed',
    runners: ALL,
    setup: async (_runner, resources) => {
      const db = await resources.database();
      const dir = await resources.gooseDirectory('broken-sql', { '001_notes.sql': '-- +goose Up\nCREATE TABLE notes (id int,);\n' });
      return everywhere({ url: formatConnectionString(db), migrations: dir });
    },
  },
  {
    id: 'migration-changed',
    runners: ALL,
    setup: async (_runner, resources) => {
      const db = await resources.database();
      await resources.applyWithCli(db, ['--tables', 'notification_audit']);
      await resources.sql(db, "update e2e_migration_checksum set checksum = repeat('0', 64) where name = '0020_notification_audit'");
      return everywhere({ url: formatConnectionString(db), tables: ['notification_audit'] });
    },
  },
  {
    id: 'goose-file',
    runners: ALL,
    setup: async (_runner, resources) => {
      const dir = await resources.gooseDirectory('unclosed', { '001_notes.sql': '-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE notes (id int);\n' });
      return everywhere({ url: UNREACHABLE, migrations: dir });
    },
  },
  {
    id: 'verification-failed',
    runners: ALL,
    setup: async (_runner, resources) => {
      const db = await resources.database();
      await resources.applyWithCli(db, ['--tables', 'notification_audit']);
      await resources.sql(db, 'alter table notification_audit drop column channel');
      return everywhere({ url: formatConnectionString(db), tables: ['notification_audit'] });
    },
  },
  {
    id: 'no-createdb',
    runners: BOTH,
    setup: async (runner, resources) => {
      const db = await resources.database({ owner: 'no-createdb' });
      return {
        block: { url: formatConnectionString(db), tables: ['notification_audit'], isolate: 'file' },
        ...(runner === 'jest' ? { jestConfig: { testEnvironment: 'e2e-migrations/jest/environment' } } : {}),
      };
    },
  },
];

/** Everything the cases open, closed together. */
export interface Resources extends AsyncDisposable {
  /** A private directory for files the cases write. */
  readonly dir: string;
  /** A Node older than 22.19 on this machine, if there is one. */
  readonly oldNode: string | undefined;
  /** A simulated Kind cluster whose Postgres is a fresh database of the suite's server; one per flavour. */
  sim(flavour: 'plain' | 'not-ready' | 'forbidden' | 'nodeport'): Promise<KubeSimulator>;
  /** Kubeconfig variants of the plain cluster. */
  kubeconfigs(): Promise<KubeconfigFiles>;
  /** A fresh database, as the suite's superuser or as an owner without CREATEDB. */
  database(options?: { owner?: 'no-createdb' }): Promise<ConnectionInfo>;
  /** Holds the migration lock on `db` (as another run would) until closed. */
  holdMigrationLock(db: ConnectionInfo): Promise<void>;
  /** A port on 127.0.0.1 that relays to `db`'s server and cuts each connection after `bytes` sent to it. */
  cuttingProxy(db: ConnectionInfo, bytes: number): Promise<number>;
  /** A goose directory with these files. */
  gooseDirectory(name: string, files: Record<string, string>): Promise<string>;
  /** `e2e-migrations apply` of the packed package on `db`. */
  applyWithCli(db: ConnectionInfo, args: readonly string[]): Promise<void>;
  sql(db: ConnectionInfo, text: string): Promise<void>;
}

export async function openResources(dir: string, options: { oldNode: string | undefined; applyWithCli: (url: string, args: readonly string[]) => Promise<void> }): Promise<Resources> {
  const admin = inject('pgAdmin');
  const closers: (() => Promise<unknown>)[] = [];
  const sims = new Map<string, Promise<KubeSimulator>>();
  let files: Promise<KubeconfigFiles> | undefined;
  await mkdir(dir, { recursive: true });


  const database = async (options: { owner?: 'no-createdb' } = {}): Promise<ConnectionInfo> => {
    const db = await freshDatabase('readme');
    closers.push(() => db.drop());
    if (!options.owner) return db.connection;
    const role = `readme_nocreatedb_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(9).toString('hex');
    await withClient(admin, async (client) => {
      await client.query(`CREATE ROLE ${client.escapeIdentifier(role)} LOGIN NOCREATEDB PASSWORD '${password}'`);
      await client.query(`ALTER DATABASE ${client.escapeIdentifier(db.connection.database)} OWNER TO ${client.escapeIdentifier(role)}`);
    });
    // Dropped after the database (closers run newest first): the role owns it until then.
    closers.splice(closers.length - 1, 0, () => withClient(admin, (client) => client.query(`DROP ROLE IF EXISTS ${client.escapeIdentifier(role)}`)));
    return { ...db.connection, user: role, password };
  };

  const sim = (flavour: 'plain' | 'not-ready' | 'forbidden' | 'nodeport'): Promise<KubeSimulator> => {
    let started = sims.get(flavour);
    if (!started) {
      started = (async () => {
        const db = await database();
        const started = await startKubeSimulator({
          postgres: {
            upstream: { host: admin.host, port: admin.port },
            credentials: { user: admin.user, password: admin.password, database: db.database },
            ready: flavour !== 'not-ready',
            ...(flavour === 'nodeport' ? { nodePort: true as const } : {}),
          },
        });
        closers.push(() => started.close());
        if (flavour === 'forbidden') started.faults.forbidPortForward();
        if (flavour === 'nodeport') started.faults.stallNodePort();
        return started;
      })();
      sims.set(flavour, started);
    }
    return started;
  };

  return {
    dir,
    oldNode: options.oldNode,
    sim,
    kubeconfigs: () =>
      (files ??= sim('plain').then(async (plain) => {
        const made = await kubeconfigFiles(plain);
        closers.push(async () => {
          await made[Symbol.asyncDispose]();
        });
        return made;
      })),
    database,
    holdMigrationLock: async (db) => {
      const client = new pg.Client({ ...db });
      await client.connect();
      closers.push(() => client.end());
      await client.query("select set_config('application_name', 'gateway-e2e (another run)', false)");
      await client.query('select pg_advisory_lock(hashtextextended($1, 0))', ['e2e-migrations:ledger']);
    },
    cuttingProxy: async (db, bytes) => {
      const sockets = new Set<Socket>();
      const server = createServer((client) => {
        const upstream = connect(db.port, db.host);
        sockets.add(client).add(upstream);
        let sent = 0;
        client.on('data', (chunk: Buffer) => {
          sent += chunk.length;
          if (sent > bytes) {
            client.destroy();
            upstream.destroy();
          } else upstream.write(chunk);
        });
        upstream.pipe(client);
        const end = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', end).on('close', end);
        upstream.on('error', end).on('close', end);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      closers.push(async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      });
      return (server.address() as AddressInfo).port;
    },
    gooseDirectory: async (name, contents) => {
      const path = join(dir, name);
      await mkdir(path, { recursive: true });
      for (const [file, text] of Object.entries(contents)) await writeFile(join(path, file), text);
      return path;
    },
    applyWithCli: (db, args) => options.applyWithCli(formatConnectionString(db), args),
    sql: (db, text) => withClient(db, (client) => client.query(text)).then(() => undefined),
    [Symbol.asyncDispose]: async () => {
      const errors: unknown[] = [];
      for (const close of closers.reverse()) await close().catch((error: unknown) => errors.push(error));
      if (errors.length) throw new AggregateError(errors, 'closing the troubleshooting resources failed');
    },
  };
}
