import pg from 'pg';
import { inject } from 'vitest';
import { startKubeSimulator, type KubeSimulator } from '../../../fixtures/k8s-simulator/index.ts';
import { freshDatabase, type FreshDatabase } from '../../support/fresh-database.ts';

export interface KindCluster extends AsyncDisposable {
  readonly sim: KubeSimulator;
  readonly db: FreshDatabase;
  /** The Kind options of the `migrations` block for this cluster. */
  readonly options: { kubeconfig: string; namespace: string; secret: string };
}

/**
 * A simulated Kind cluster whose `postgresql` pod relays to a fresh database of the suite's
 * real Postgres; the Secret carries that database's credentials, as postgres.yaml does.
 * `nodePort` makes the Service type NodePort, listening on the node's InternalIP (127.0.0.1).
 */
export async function kindCluster(options: { ready?: boolean; nodePort?: true | number } = {}): Promise<KindCluster> {
  const admin = inject('pgAdmin');
  const db = await freshDatabase('kind');
  const sim = await startKubeSimulator({
    postgres: {
      upstream: { host: admin.host, port: admin.port },
      credentials: { user: admin.user, password: admin.password, database: db.connection.database },
      ready: options.ready ?? true,
      ...(options.nodePort !== undefined ? { nodePort: options.nodePort } : {}),
    },
  });
  const close = async () => {
    await sim.close();
    await db.drop();
  };
  return {
    sim,
    db,
    options: { kubeconfig: sim.kubeconfigPath, namespace: 'kubernaut-system', secret: 'postgresql-secret' },
    [Symbol.asyncDispose]: close,
  };
}

/** Runs one query on a connection string and closes it. */
export async function query<T extends pg.QueryResultRow>(connection: pg.ClientConfig, text: string): Promise<T[]> {
  const client = new pg.Client(connection);
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}
