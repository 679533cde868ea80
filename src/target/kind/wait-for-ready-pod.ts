import { setTimeout as delay } from 'node:timers/promises';
import type { CoreV1Api, V1Pod, V1Service } from '@kubernetes/client-node';
import { ClusterError } from '../../errors/errors.ts';
import { explainApiFailure, type ApiEndpoint } from './explain-api-failure.ts';
import { apiReason, statusCode } from './kube-api-error.ts';

export interface ReadyPodQuery {
  readonly namespace: string;
  readonly service: string;
  /** How long to wait for a Ready pod. */
  readonly timeoutMs: number;
  /** How often to look again while waiting. @default 500 */
  readonly pollMs?: number;
  /** Told what is awaited, each time that changes. */
  readonly onWait?: (what: string) => void;
  /**
   * The loaded kubeconfig (a `LoadedKubeConfig` fits): failures then name the cluster, user and CA
   * they concern, e.g. "certificate-authority-data of cluster kind-e2e".
   */
  readonly cluster?: ApiEndpoint;
  /** The API server, for messages, when `cluster` is not given. */
  readonly server?: string;
}

export interface ReadyPod {
  readonly name: string;
  readonly uid: string;
  /** The node it runs on. */
  readonly node?: string;
}

const DEFAULT_POLL_MS = 500;

/**
 * Resolves a Service to the first Ready pod its selector picks, waiting for one until the
 * deadline. A missing namespace or Service fails at once (waiting would not fix it); a
 * timeout names namespace/service and the state of every candidate pod. `found` is the
 * Service when the caller has read it already ({@link readService}).
 */
export async function waitForReadyPod(core: CoreV1Api, query: ReadyPodQuery, found?: V1Service): Promise<ReadyPod> {
  const { namespace, service } = query;
  const selector = serviceSelector(found ?? (await readService(core, query)), query);
  const deadline = Date.now() + query.timeoutMs;
  for (;;) {
    const pods = await call(query, () => core.listNamespacedPod({ namespace, labelSelector: selector }));
    const ready = pods.items.find(isReady);
    if (ready?.metadata?.name) return Object.freeze({ name: ready.metadata.name, uid: ready.metadata.uid ?? '', ...(ready.spec?.nodeName ? { node: ready.spec.nodeName } : {}) });
    const states = pods.items.map(describePod);
    if (Date.now() >= deadline) {
      throw new ClusterError(
        `no Ready pod for service ${namespace}/${service} after ${query.timeoutMs} ms (selector ${selector}; pods: ${states.join('; ') || 'none'})`,
        { namespace, service, timeoutMs: query.timeoutMs },
      );
    }
    query.onWait?.(`a Ready pod of service ${namespace}/${service} (${states.join('; ') || 'no pods yet'})`);
    await delay(Math.min(query.pollMs ?? DEFAULT_POLL_MS, Math.max(0, deadline - Date.now())));
  }
}

/**
 * Reads the Service; a missing one fails naming the Services the namespace has, anything else
 * as explainApiFailure words it.
 */
export async function readService(core: CoreV1Api, query: Pick<ReadyPodQuery, 'namespace' | 'service' | 'cluster' | 'server'>): Promise<V1Service> {
  const { namespace, service } = query;
  try {
    return await core.readNamespacedService({ name: service, namespace });
  } catch (error) {
    if (statusCode(error) !== 404) throw apiFailure(query, error);
    throw await missingService(core, query, error);
  }
}

/** The Service's selector as a label selector; a Service without one fails (no pod can be chosen). */
export function serviceSelector(found: V1Service, query: Pick<ReadyPodQuery, 'namespace' | 'service'>): string {
  const { namespace, service } = query;
  const selector = found.spec?.selector ?? {};
  if (Object.keys(selector).length === 0) {
    throw new ClusterError(`service ${namespace}/${service} has no selector, so no pod can be chosen for it`, { namespace, service });
  }
  return Object.entries(selector)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

async function missingService(core: CoreV1Api, query: Pick<ReadyPodQuery, 'namespace' | 'service'>, cause: unknown): Promise<ClusterError> {
  const { namespace, service } = query;
  try {
    const services = await core.listNamespacedService({ namespace });
    const names = services.items.map((s) => s.metadata?.name).filter(Boolean);
    return new ClusterError(`service ${namespace}/${service} not found (services in ${namespace}: ${names.join(', ') || 'none'})`, { namespace, service }, { cause });
  } catch {
    return new ClusterError(`service ${namespace}/${service} not found: ${apiReason(cause)}`, { namespace, service }, { cause });
  }
}

async function call<T>(query: ReadyPodQuery, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw apiFailure(query, error);
  }
}

function apiFailure(query: Pick<ReadyPodQuery, 'namespace' | 'service' | 'cluster' | 'server'>, error: unknown): ClusterError {
  const { namespace, service } = query;
  const endpoint = query.cluster ?? (query.server ? { server: query.server } : undefined);
  const message = explainApiFailure(error, endpoint, `looking up service ${namespace}/${service}`);
  return new ClusterError(message, { namespace, service, ...(query.cluster?.context ? { context: query.cluster.context } : {}) }, { cause: error });
}

/** Running, Ready=True and not being deleted. */
export function isReady(pod: V1Pod): boolean {
  return (
    !pod.metadata?.deletionTimestamp &&
    pod.status?.phase === 'Running' &&
    (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

/** `name: Running, Ready=False, Terminating`, for messages. */
export function describePod(pod: V1Pod): string {
  const ready = (pod.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const waiting = pod.status?.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting?.reason;
  const facts = [pod.status?.phase ?? 'Unknown', `Ready=${ready?.status ?? 'Unknown'}`, waiting, pod.metadata?.deletionTimestamp ? 'Terminating' : undefined];
  return `${pod.metadata?.name}: ${facts.filter(Boolean).join(', ')}`;
}
