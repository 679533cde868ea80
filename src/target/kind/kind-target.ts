import { CoreV1Api, type V1Service } from '@kubernetes/client-node';
import { completeCredentials } from '../../config/defaults.ts';
import { formatHostPort, type HostPort } from '../../config/host-port.ts';
import type { KindConfig } from '../../config/resolve-config.ts';
import { connectionInfo } from '../../postgres/connection-string.ts';
import type { StageProgress } from '../../report/reporter.ts';
import type { TargetContext } from '../open-target.ts';
import type { StartedTarget, TransportReport } from '../target.ts';
import { chooseTransport, describeAttempts, type TransportChoice } from './choose-transport.ts';
import { loadKubeConfig, type LoadedKubeConfig } from './load-kube-config.ts';
import { kindClusterOf } from './node-port-candidates.ts';
import { startPortForward } from './port-forward-server.ts';
import { probePostgres } from './probe-postgres.ts';
import { readCredentials } from './read-credentials.ts';
import { readService, waitForReadyPod, type ReadyPod, type ReadyPodQuery } from './wait-for-ready-pod.ts';

/** What the `cluster` stage found. */
interface FoundCluster {
  readonly cluster: LoadedKubeConfig;
  readonly core: CoreV1Api;
  readonly service: V1Service;
  readonly pod: ReadyPod;
  readonly credentials: { readonly user: string; readonly password: string; readonly database: string };
  readonly query: ReadyPodQuery;
}

/**
 * The Kind target: find the cluster, resolve the Postgres Service to a Ready pod and read
 * credentials (stage `cluster`); then choose the transport (stage `forward`): the Service's
 * NodePort when one answers as Postgres — no port-forward is opened at all — else a
 * port-forward on 127.0.0.1, which goes on the session's teardown stack as soon as it listens.
 */
export async function startKindTarget(config: KindConfig, context: TargetContext): Promise<StartedTarget> {
  const found = await context.stage('cluster', (progress) => findCluster(config, context, progress));
  return context.stage('forward', async (progress) => {
    const choice = await chooseTransport({
      mode: config.transport,
      service: found.service,
      podPort: config.port,
      nodeAddress: config.nodeAddress,
      kindCluster: kindClusterOf(config.kindCluster, found.cluster.context),
      context: found.cluster.context,
      core: found.core,
      podNode: found.pod.node,
      cluster: found.cluster,
      onProbe: (label) => progress.waitingFor(`a Postgres answer at ${label}`),
      probe: (address) => probePostgres(address, { signal: context.signal }),
    });
    if (choice.transport === 'nodeport') return nodePortTarget(config, found, choice, progress);
    return openPortForward(config, context, found, choice, progress);
  });
}

async function findCluster(config: KindConfig, context: TargetContext, progress: StageProgress): Promise<FoundCluster> {
  const { namespace, service } = config;
  progress.waitingFor(config.kindCluster ? `the kubeconfig of Kind cluster "${config.kindCluster}"` : 'the kubeconfig');
  const cluster = await loadKubeConfig({
    ...(config.kubeconfig ? { kubeconfig: config.kubeconfig } : {}),
    ...(config.context ? { context: config.context } : {}),
    ...(config.kindCluster ? { kindCluster: config.kindCluster } : {}),
  });
  const core = cluster.kc.makeApiClient(CoreV1Api);
  const query = { namespace, service, timeoutMs: config.readyTimeoutMs, cluster, onWait: (what: string) => progress.waitingFor(what) };
  const found = await readService(core, query);
  const pod = await waitForReadyPod(core, query, found);
  const credentials = completeCredentials(config.credentials, config.secret ? await readCredentials(core, namespace, config.secret, cluster) : {});
  context.reporter.addSecret(credentials.password);
  progress.done(`context ${cluster.context} (${cluster.server}), service ${namespace}/${service} → pod ${pod.name}${config.secret ? `, credentials from secret ${config.secret}` : ''}`);
  return { cluster, core, service: found, pod, credentials, query };
}

/** A NodePort answered: connect there. Nothing was opened, so there is nothing to close. */
function nodePortTarget(config: KindConfig, found: FoundCluster, choice: TransportChoice & { transport: 'nodeport' }, progress: StageProgress): StartedTarget {
  const { namespace, service } = config;
  const address = formatHostPort(choice.address);
  progress.done(`nodeport ${address} → service ${namespace}/${service} (${choice.reason}${skipped(choice)}); no port-forward`);
  const close = async (): Promise<void> => undefined;
  return Object.freeze({
    kind: 'kind' as const,
    connection: connectionInfo({ ...choice.address, ...found.credentials }),
    description: `${found.cluster.context}/${namespace}/${service} via nodeport ${address}`,
    transport: report(config, 'nodeport', choice.address, choice),
    close,
    [Symbol.asyncDispose]: close,
  });
}

/** No NodePort answered (or none was wanted): forward to the pod, re-resolving it if it goes away. */
async function openPortForward(config: KindConfig, context: TargetContext, found: FoundCluster, choice: TransportChoice, progress: StageProgress): Promise<StartedTarget> {
  const { namespace, service } = config;
  const { reporter } = context;
  let first = true;
  const forward = await startPortForward({
    kc: found.cluster.kc,
    namespace,
    remotePort: config.port,
    resolvePod: async () => {
      if (first) {
        first = false;
        return found.pod;
      }
      const pod = await waitForReadyPod(found.core, { ...found.query, onWait: (what) => reporter.info(`forward  waiting for ${what}`) });
      reporter.info(`forward  now to pod ${namespace}/${pod.name}`);
      return pod;
    },
    onEvent: (message) => reporter.warn(message),
  });
  const description = `${found.cluster.context}/${namespace}/${service} via 127.0.0.1:${forward.port}`;
  context.stack.use(`port-forward ${description}`, forward);
  progress.waitingFor(`the port-forward to pod ${namespace}/${found.pod.name}:${config.port}`);
  await forward.probe();
  progress.done(`127.0.0.1:${forward.port} → ${namespace}/${found.pod.name}:${config.port} via port-forward (${choice.reason})`);
  return Object.freeze({
    kind: 'kind' as const,
    connection: connectionInfo({ host: '127.0.0.1', port: forward.port, ...found.credentials }),
    description,
    transport: report(config, 'port-forward', { host: '127.0.0.1', port: forward.port }, choice),
    forward,
    close: forward.close,
    [Symbol.asyncDispose]: forward.close,
  });
}

function report(config: KindConfig, transport: TransportReport['transport'], address: HostPort, choice: TransportChoice): TransportReport {
  return Object.freeze({ transport, mode: config.transport, address: formatHostPort(address), reason: choice.reason, attempts: choice.attempts });
}

/** `; nodeAddress: skipped, not set; …`: the NodePort addresses tried before the one that answered. */
function skipped(choice: TransportChoice): string {
  const before = describeAttempts(choice.attempts.filter((a) => a.outcome !== 'answered'));
  return before ? `; ${before}` : '';
}
