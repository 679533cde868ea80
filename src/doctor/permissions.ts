import { AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { explainApiFailure, type ApiEndpoint } from '../target/kind/explain-api-failure.ts';

/** One thing a run asks the API server to do. */
export interface Permission {
  readonly verb: string;
  readonly resource: string;
  readonly subresource?: string;
  /** Absent: cluster-scoped (nodes). */
  readonly namespace?: string;
  /** What needs it, for messages: `always`, or the step that does (`the port-forward`). */
  readonly neededFor: 'always' | 'port-forward' | 'secret' | 'node-ip';
}

export interface PermissionAnswer extends Permission {
  readonly allowed: boolean;
}

/**
 * What the Kind path asks of the API server: the Service (get), its pods (list), the Secret
 * (get, when one is configured), nodes (get/list, for the NodePort's InternalIP) and
 * pods/portforward (create: a WebSocket port-forward is authorized as get and create).
 */
export function kindPermissions(namespace: string, withSecret: boolean): Permission[] {
  return [
    { verb: 'get', resource: 'services', namespace, neededFor: 'always' },
    { verb: 'get', resource: 'pods', namespace, neededFor: 'always' },
    { verb: 'list', resource: 'pods', namespace, neededFor: 'always' },
    ...(withSecret ? [{ verb: 'get', resource: 'secrets', namespace, neededFor: 'secret' } as const] : []),
    { verb: 'get', resource: 'nodes', neededFor: 'node-ip' },
    { verb: 'list', resource: 'nodes', neededFor: 'node-ip' },
    { verb: 'create', resource: 'pods', subresource: 'portforward', namespace, neededFor: 'port-forward' },
  ];
}

/**
 * Asks the API server, through SelfSubjectAccessReview (what `kubectl auth can-i` asks),
 * whether the kubeconfig's user may do each thing. Rejects only when the reviews themselves
 * cannot be made, with explainApiFailure's reason.
 */
export async function reviewPermissions(kc: KubeConfig, permissions: readonly Permission[], endpoint?: ApiEndpoint): Promise<PermissionAnswer[]> {
  const api = kc.makeApiClient(AuthorizationV1Api);
  try {
    return await Promise.all(
      permissions.map(async (permission) => {
        const review = await api.createSelfSubjectAccessReview({
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            spec: {
              resourceAttributes: {
                verb: permission.verb,
                group: '',
                resource: permission.resource,
                ...(permission.subresource ? { subresource: permission.subresource } : {}),
                ...(permission.namespace ? { namespace: permission.namespace } : {}),
              },
            },
          },
        });
        return Object.freeze({ ...permission, allowed: review.status?.allowed === true });
      }),
    );
  } catch (error) {
    throw new Error(explainApiFailure(error, endpoint, 'asking SelfSubjectAccessReview'), { cause: error });
  }
}

/** `create pods/portforward in kubernaut-system` */
export function describePermission(p: Permission): string {
  return `${p.verb} ${p.resource}${p.subresource ? `/${p.subresource}` : ''}${p.namespace ? ` in ${p.namespace}` : ' (cluster-wide)'}`;
}

/** The command that asks the same question (`pods/portforward` would be read as a pod named portforward). */
export function canICommand(p: Permission, context: string): string {
  return `kubectl --context ${context} auth can-i ${p.verb} ${p.resource}${p.subresource ? ` --subresource=${p.subresource}` : ''}${p.namespace ? ` -n ${p.namespace}` : ''}`;
}
