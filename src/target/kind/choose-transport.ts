import type { V1Service } from '@kubernetes/client-node';
import { formatHostPort, type HostPort } from '../../config/host-port.ts';
import type { KindTransport } from '../../config/resolve-config.ts';
import { ClusterError } from '../../errors/errors.ts';
import type { TransportAttempt } from '../target.ts';
import { nodePortCandidates, nodePortOf, type CandidateQuery } from './node-port-candidates.ts';
import { probePostgres, type ProbeResult } from './probe-postgres.ts';

export interface ChooseTransportInput extends Omit<CandidateQuery, 'nodePort'> {
  readonly mode: KindTransport;
  readonly service: V1Service;
  /** The Postgres port in the pod. */
  readonly podPort: number;
  /** Told what is probed, each time. */
  readonly onProbe?: (label: string) => void;
  /** @default probePostgres */
  readonly probe?: (address: HostPort) => Promise<ProbeResult>;
}

/** The transport to use: the NodePort address that answered, or a port-forward and why. */
export type TransportChoice =
  | { readonly transport: 'nodeport'; readonly address: HostPort; readonly reason: string; readonly attempts: readonly TransportAttempt[] }
  | { readonly transport: 'port-forward'; readonly reason: string; readonly attempts: readonly TransportAttempt[] };

/**
 * Decides how a Kind run reaches Postgres (the teams' port-allocation standard, DD-TEST-001:
 * a NodePort mapped to a host port by the Kind cluster's extraPortMappings, because
 * `kubectl port-forward` fails under concurrent load).
 *
 * - `port-forward`: no NodePort is looked at or probed.
 * - `auto`: when the Service has a NodePort, each candidate address (nodeAddress, the Kind
 *   node container's host port, the node's InternalIP) is probed for a Postgres answer within a
 *   second; the first that answers wins. None: a port-forward, with the reasons.
 * - `nodeport`: the same, but none answering is a ClusterError listing each attempt.
 */
export async function chooseTransport(input: ChooseTransportInput): Promise<TransportChoice> {
  if (input.mode === 'port-forward') return Object.freeze({ transport: 'port-forward', reason: 'transport "port-forward" is configured', attempts: Object.freeze([]) });
  const namespace = input.service.metadata?.namespace;
  const serviceName = input.service.metadata?.name;
  const found = nodePortOf(input.service, input.podPort);
  if ('none' in found) {
    if (input.mode === 'nodeport') {
      throw new ClusterError(`transport "nodeport": ${found.none}; make the Service type NodePort (Kind: map its nodePort in extraPortMappings), or use transport "auto" or "port-forward"`, {
        ...(namespace ? { namespace } : {}),
        ...(serviceName ? { service: serviceName } : {}),
        context: input.context,
      });
    }
    return Object.freeze({ transport: 'port-forward', reason: found.none, attempts: Object.freeze([]) });
  }

  const { attempts, answered } = await probeNodePort({ ...input, nodePort: found.nodePort }, { stopAtFirst: true });
  if (answered) return Object.freeze({ transport: 'nodeport', address: answered.address, reason: `${answered.label} answered as Postgres`, attempts });
  const what = `no address of NodePort ${found.nodePort} of service ${namespace}/${serviceName} answered as Postgres`;
  if (input.mode === 'nodeport') {
    throw new ClusterError(`transport "nodeport": ${what}: ${describeAttempts(attempts)}; map the nodePort to a host port (Kind extraPortMappings) and give it as nodeAddress, or use transport "auto"`, {
      ...(namespace ? { namespace } : {}),
      ...(serviceName ? { service: serviceName } : {}),
      context: input.context,
    });
  }
  return Object.freeze({ transport: 'port-forward', reason: `${what} (${describeAttempts(attempts)})`, attempts: Object.freeze(attempts) });
}

export interface ProbeNodePortInput extends CandidateQuery, Pick<ChooseTransportInput, 'onProbe' | 'probe'> {}

/**
 * Probes the NodePort's candidate addresses in order ({@link nodePortCandidates}); with
 * `stopAtFirst`, only until one answers (a run), else all of them (`doctor`).
 */
export async function probeNodePort(
  input: ProbeNodePortInput,
  options: { readonly stopAtFirst: boolean },
): Promise<{ readonly attempts: readonly TransportAttempt[]; readonly answered?: { readonly address: HostPort; readonly label: string } }> {
  const attempts: TransportAttempt[] = [];
  const probe = input.probe ?? probePostgres;
  let answered: { address: HostPort; label: string } | undefined;
  for await (const candidate of nodePortCandidates(input)) {
    if (!('address' in candidate)) {
      attempts.push(Object.freeze({ source: candidate.source, label: candidate.label, outcome: candidate.outcome, reason: candidate.reason }));
      continue;
    }
    input.onProbe?.(candidate.label);
    const result = await probe(candidate.address);
    const reason = result.ok ? `Postgres answered in ${result.ms} ms` : result.reason;
    attempts.push(Object.freeze({ source: candidate.source, label: candidate.label, address: formatHostPort(candidate.address), outcome: result.ok ? 'answered' : 'failed', reason }));
    if (result.ok) {
      answered ??= { address: candidate.address, label: candidate.label };
      if (options.stopAtFirst) break;
    }
  }
  return Object.freeze({ attempts: Object.freeze(attempts), ...(answered ? { answered: Object.freeze(answered) } : {}) });
}

/** `nodeAddress 127.0.0.1:1: connection refused; docker port …: skipped, neither docker nor podman is on PATH` */
export function describeAttempts(attempts: readonly TransportAttempt[]): string {
  return attempts.map((a) => `${a.label}: ${a.outcome === 'skipped' ? `skipped, ${a.reason}` : a.reason}`).join('; ');
}
