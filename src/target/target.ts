import type { KindTransport, TargetKind } from '../config/resolve-config.ts';
import type { ConnectionInfo } from '../postgres/connection-string.ts';

/**
 * A started target: a Postgres that is reachable now. Closing it releases what starting it
 * opened (the embedded server, the port-forward); `close` is idempotent. A session puts it
 * on its teardown stack the moment it is returned.
 */
export interface StartedTarget extends AsyncDisposable {
  readonly kind: TargetKind;
  readonly connection: ConnectionInfo;
  /** A human description without secrets, e.g. `kind-e2e/kubernaut-system/postgresql`. */
  readonly description: string;
  /** Kind: how Postgres is reached, and why the other ways were not used. */
  readonly transport?: TransportReport;
  /**
   * Set when `connection.database` does not exist yet (a database of the session's own on a
   * shared or reused embedded server): the session creates it as a clone of its plan's
   * migrated template, connecting to `adminDatabase` of the same server to do so.
   */
  readonly provision?: { readonly adminDatabase: string };
  close(): Promise<void>;
}

/** One way to reach a Kind Service's NodePort, and what became of it. */
export interface TransportAttempt {
  /** `nodeAddress` (the configured address), `container-port` (`docker port`), `node-ip` (the node's InternalIP). */
  readonly source: 'nodeAddress' | 'container-port' | 'node-ip';
  /** What was tried, e.g. `docker port e2e-control-plane 30432/tcp → 127.0.0.1:25433`. */
  readonly label: string;
  /** `host:port` probed, when one was found. */
  readonly address?: string;
  /** `answered`: a Postgres answered there; `failed`: it did not, or the address could not be learnt; `skipped`: not applicable. */
  readonly outcome: 'answered' | 'failed' | 'skipped';
  readonly reason: string;
}

/**
 * How a Kind run reaches Postgres: the Service's NodePort (no port-forward at all) or a
 * port-forward, with the address used and why the other transport was not.
 *
 * @example
 * { transport: 'nodeport', mode: 'auto', address: '127.0.0.1:25433',
 *   reason: 'nodeAddress 127.0.0.1:25433 answered as Postgres', attempts: [...] }
 */
export interface TransportReport {
  readonly transport: 'nodeport' | 'port-forward';
  /** What the configuration asked for. */
  readonly mode: KindTransport;
  /** `host:port` the run connects to (for a port-forward, its listener on 127.0.0.1). */
  readonly address: string;
  /** Why this transport: the NodePort address that answered, or why no NodePort was used. */
  readonly reason: string;
  /** The NodePort addresses tried, in order (empty when none was, e.g. `transport: 'port-forward'`). */
  readonly attempts: readonly TransportAttempt[];
}
