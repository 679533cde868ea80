import type { TargetKind } from '../config/resolve-config.ts';
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
  close(): Promise<void>;
}
