import type { CoreV1Api } from '@kubernetes/client-node';
import { ClusterError } from '../../errors/errors.ts';
import { explainApiFailure, type ApiEndpoint } from './explain-api-failure.ts';
import { apiReason, statusCode } from './kube-api-error.ts';

export interface SecretCredentials {
  readonly user?: string;
  readonly password?: string;
  readonly database?: string;
}

/** The Secret keys the Postgres image reads, as the fixtures' manifests set them. */
export const SECRET_KEYS = Object.freeze({ user: 'POSTGRES_USER', password: 'POSTGRES_PASSWORD', database: 'POSTGRES_DB' });

/**
 * Reads Postgres credentials from a Secret; absent keys stay undefined so defaults apply.
 * `cluster` (the loaded kubeconfig) lets a TLS or connection failure name the cluster and user.
 */
export async function readCredentials(core: CoreV1Api, namespace: string, name: string, cluster?: ApiEndpoint): Promise<SecretCredentials> {
  let secret;
  try {
    secret = await core.readNamespacedSecret({ name, namespace });
  } catch (error) {
    const code = statusCode(error);
    const message =
      code === 404
        ? `secret ${namespace}/${name} not found`
        : code === 403
          ? `secret ${namespace}/${name} not readable: ${apiReason(error)}`
          : explainApiFailure(error, cluster, `reading secret ${namespace}/${name}`);
    throw new ClusterError(message, { namespace, ...(cluster?.context ? { context: cluster.context } : {}) }, { cause: error });
  }
  const read = (key: string): string | undefined => {
    const encoded = secret.data?.[key];
    if (encoded !== undefined) return Buffer.from(encoded, 'base64').toString('utf8');
    return secret.stringData?.[key];
  };
  const found = { user: read(SECRET_KEYS.user), password: read(SECRET_KEYS.password), database: read(SECRET_KEYS.database) };
  if (Object.values(found).every((value) => value === undefined)) {
    throw new ClusterError(`secret ${namespace}/${name} has none of the keys ${Object.values(SECRET_KEYS).join(', ')}`, { namespace });
  }
  return Object.freeze(found);
}
