import type { CoreV1Api, V1Node, V1Service } from '@kubernetes/client-node';
import { formatHostPort, type HostPort } from '../../config/host-port.ts';
import type { TransportAttempt } from '../target.ts';
import { kindNodeHostPort, type ContainerPortLookup } from './container-port.ts';
import { explainApiFailure, type ApiEndpoint } from './explain-api-failure.ts';

/** The Service port that leads to the pod's Postgres port, and its NodePort. */
export interface ServiceNodePort {
  readonly port: number;
  readonly nodePort: number;
}

/**
 * The NodePort of the Service port that leads to `podPort`: the one whose targetPort is that
 * number, else whose port is, else the only one (a named targetPort, as fixtures/kind's
 * `postgresql`). Or why there is none: a ClusterIP Service has none; a NodePort Service may not
 * expose that port.
 */
export function nodePortOf(service: V1Service, podPort: number): ServiceNodePort | { readonly none: string } {
  const name = `service ${service.metadata?.namespace}/${service.metadata?.name}`;
  const type = service.spec?.type ?? 'ClusterIP';
  const ports = service.spec?.ports ?? [];
  if (type !== 'NodePort' && type !== 'LoadBalancer') return { none: `${name} has no nodePort (type ${type})` };
  const leading =
    ports.find((p) => p.targetPort === podPort || (p.targetPort === undefined && p.port === podPort)) ??
    ports.find((p) => p.port === podPort) ??
    (ports.length === 1 ? ports[0] : undefined);
  if (!leading) return { none: `no port of ${name} leads to the pod's port ${podPort} (ports: ${ports.map((p) => `${p.port}→${p.targetPort ?? p.port}`).join(', ') || 'none'})` };
  if (!leading.nodePort) return { none: `port ${leading.port} of ${name} has no nodePort` };
  return Object.freeze({ port: leading.port, nodePort: leading.nodePort });
}

/** One place to look for the NodePort: an address to probe, or why there is none. */
export type NodePortCandidate =
  | { readonly source: TransportAttempt['source']; readonly label: string; readonly address: HostPort }
  | { readonly source: TransportAttempt['source']; readonly label: string; readonly outcome: 'failed' | 'skipped'; readonly reason: string };

export interface CandidateQuery {
  readonly nodePort: number;
  /** The configured `nodeAddress`. */
  readonly nodeAddress: HostPort | undefined;
  /** The Kind cluster's name (from `kindCluster` or a `kind-NAME` context), for its node container. */
  readonly kindCluster: string | undefined;
  /** The context, named when the cluster name cannot be told from it. */
  readonly context: string;
  readonly core: CoreV1Api;
  /** The node the pod runs on, when known: its InternalIP is tried. Else the cluster's first node. */
  readonly podNode?: string | undefined;
  readonly cluster?: ApiEndpoint;
  /** How the host port of the Kind node container is found. @default kindNodeHostPort (docker, podman) */
  readonly containerPort?: (cluster: string, nodePort: number) => Promise<ContainerPortLookup>;
}

/**
 * Where this machine may reach a NodePort, in the order to try them: the configured
 * `nodeAddress`; the host port the Kind node container maps to the NodePort (extraPortMappings);
 * the node's InternalIP with the NodePort. Lazy: a candidate is worked out only when the ones
 * before it did not answer.
 */
export async function* nodePortCandidates(query: CandidateQuery): AsyncGenerator<NodePortCandidate> {
  const { nodePort } = query;
  yield query.nodeAddress
    ? { source: 'nodeAddress', label: `nodeAddress ${formatHostPort(query.nodeAddress)}`, address: query.nodeAddress }
    : { source: 'nodeAddress', label: 'nodeAddress', outcome: 'skipped', reason: 'not set' };

  if (!query.kindCluster) {
    yield { source: 'container-port', label: 'Kind node container port', outcome: 'skipped', reason: `the Kind cluster name is unknown (no kindCluster, and context "${query.context}" is not kind-NAME)` };
  } else {
    const lookup = await (query.containerPort ?? kindNodeHostPort)(query.kindCluster, nodePort);
    if ('found' in lookup) yield { source: 'container-port', label: `${lookup.command} → ${formatHostPort(lookup.found)}`, address: lookup.found };
    else if ('skipped' in lookup) yield { source: 'container-port', label: `${query.kindCluster}-control-plane port ${nodePort}/tcp`, outcome: 'skipped', reason: lookup.skipped };
    else yield { source: 'container-port', label: lookup.command, outcome: 'failed', reason: lookup.failed };
  }

  const node = await nodeAddress(query);
  if ('address' in node) yield { source: 'node-ip', label: `node ${node.name} InternalIP ${formatHostPort({ host: node.address, port: nodePort })}`, address: { host: node.address, port: nodePort } };
  else yield { source: 'node-ip', label: 'node InternalIP', outcome: 'failed', reason: node.reason };
}

async function nodeAddress(query: CandidateQuery): Promise<{ name: string; address: string } | { reason: string }> {
  let node: V1Node | undefined;
  try {
    node = query.podNode ? await query.core.readNode({ name: query.podNode }) : (await query.core.listNode()).items[0];
  } catch (error) {
    return { reason: explainApiFailure(error, query.cluster, query.podNode ? `reading node ${query.podNode}` : 'listing nodes') };
  }
  if (!node) return { reason: 'the cluster lists no nodes' };
  const name = node.metadata?.name ?? '?';
  const internal = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  return internal ? { name, address: internal } : { reason: `node ${name} reports no InternalIP` };
}

/** `kind-e2e` → `e2e`: the cluster name Kind gives a context. */
export function kindClusterOf(kindCluster: string | undefined, context: string): string | undefined {
  if (kindCluster) return kindCluster;
  return context.startsWith('kind-') && context.length > 'kind-'.length ? context.slice('kind-'.length) : undefined;
}
