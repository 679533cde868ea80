import { CoreV1Api, VersionApi, type V1Pod, type V1Service } from '@kubernetes/client-node';
import { completeCredentials } from '../config/defaults.ts';
import { formatHostPort, type HostPort } from '../config/host-port.ts';
import type { KindConfig } from '../config/resolve-config.ts';
import { connectionInfo, type ConnectionInfo } from '../postgres/connection-string.ts';
import type { TeardownStack } from '../teardown/teardown-stack.ts';
import { describeAttempts, probeNodePort } from '../target/kind/choose-transport.ts';
import { explainApiFailure } from '../target/kind/explain-api-failure.ts';
import { loadKubeConfig, type LoadedKubeConfig } from '../target/kind/load-kube-config.ts';
import { kindClusterOf, nodePortOf } from '../target/kind/node-port-candidates.ts';
import { startPortForward } from '../target/kind/port-forward-server.ts';
import { probePostgres } from '../target/kind/probe-postgres.ts';
import { readCredentials, type SecretCredentials } from '../target/kind/read-credentials.ts';
import { describePod, isReady, readService, serviceSelector, type ReadyPod } from '../target/kind/wait-for-ready-pod.ts';
import type { TransportReport } from '../target/target.ts';
import { Chain, type DoctorLink } from './doctor-report.ts';
import { canICommand, describePermission, kindPermissions, reviewPermissions, type PermissionAnswer } from './permissions.ts';

/** What the Kind links found, for the database links after them. */
export interface KindFindings {
  /** Where Postgres is reached; holds the password: never print it. */
  readonly connection: ConnectionInfo | undefined;
  readonly unreachable?: string;
  readonly credentialsFrom: string;
  readonly transport?: Pick<TransportReport, 'transport' | 'mode' | 'address' | 'reason'>;
}

const LINKS = ['kubeconfig', 'api-server', 'permissions', 'service', 'pod', 'nodeport', 'port-forward'] as const;

/**
 * The Kind half of the chain, in the order a run walks it: kubeconfig and context, the API
 * server, permissions (SelfSubjectAccessReview), the Service, a Ready pod, the Secret, then
 * each transport: the NodePort's addresses and the port-forward. Judged by what a run with
 * this configuration would use: a refused port-forward fails only when the port-forward is
 * what the run would take. Whatever is opened (a port-forward) goes on `stack`.
 */
export async function kindLinks(chain: Chain, config: KindConfig, stack: TeardownStack): Promise<KindFindings> {
  const { namespace } = config;
  const credentialsFrom = credentialSource(config);
  const skipFrom = (first: (typeof LINKS)[number], why: string): KindFindings => {
    for (const link of LINKS.slice(LINKS.indexOf(first))) chain.skip(link, `not checked: ${why}`);
    return { connection: undefined, unreachable: why, credentialsFrom };
  };

  let cluster: LoadedKubeConfig;
  try {
    cluster = await loadKubeConfig({
      ...(config.kubeconfig ? { kubeconfig: config.kubeconfig } : {}),
      ...(config.context ? { context: config.context } : {}),
      ...(config.kindCluster ? { kindCluster: config.kindCluster } : {}),
    });
  } catch (error) {
    chain.fail('kubeconfig', (error as Error).message, 'give --kubeconfig, --context or --kind-cluster; `kubectl config get-contexts` lists the contexts, `kind get clusters` the clusters');
    return skipFrom('api-server', 'no kubeconfig');
  }
  chain.ok('kubeconfig', `context ${cluster.context} from ${cluster.origin}`);

  try {
    const version = await cluster.kc.makeApiClient(VersionApi).getCode();
    chain.ok('api-server', `${cluster.server} answered: Kubernetes ${version.gitVersion}`);
  } catch (error) {
    chain.fail('api-server', explainApiFailure(error, cluster, 'reading /version'), `check with \`kubectl --context ${cluster.context} cluster-info\``);
    return skipFrom('permissions', 'the API server did not answer');
  }

  const core = cluster.kc.makeApiClient(CoreV1Api);
  const permissions = reviewPermissions(cluster.kc, kindPermissions(namespace, config.secret !== undefined), cluster).then(
    (answers) => ({ answers }),
    (error: unknown) => ({ error: (error as Error).message }),
  );
  // Links after permissions are found first and added after it, once the transport is known.
  const later = new Chain();
  const service = await serviceLink(later, core, config, cluster);
  const pod = service ? await podLink(later, core, config, service) : (later.skip('pod', 'not checked: no Service'), undefined);
  const secret = await secretLink(later, core, config, cluster);
  const nodePort = service ? await nodePortLink(later, core, config, cluster, service, pod) : (later.skip('nodeport', 'not checked: no Service'), undefined);
  const forward = pod ? await portForwardLink(later, config, cluster, pod, stack) : (later.skip('port-forward', 'not checked: no Ready pod'), undefined);

  // What a run would take: the NodePort that answered (unless port-forward is configured), else the port-forward.
  const uses = config.transport !== 'port-forward' && nodePort ? 'nodeport' : config.transport !== 'nodeport' ? 'port-forward' : undefined;
  const address = uses === 'nodeport' ? nodePort : uses === 'port-forward' ? forward?.address : undefined;
  chain.add(permissionsLink(await permissions, uses, cluster.context));
  for (const link of later.links) chain.add(judged(link, uses));

  if (!address || !secret) {
    const why = !secret ? 'the Secret could not be read' : uses === 'nodeport' || config.transport === 'nodeport' ? 'no NodePort address answered' : 'the port-forward did not work';
    return { connection: undefined, unreachable: why, credentialsFrom };
  }
  const credentials = completeCredentials(config.credentials, secret);
  return {
    connection: connectionInfo({ ...address, ...credentials }),
    credentialsFrom,
    transport: Object.freeze({
      transport: uses!,
      mode: config.transport,
      address: formatHostPort(address),
      reason: uses === 'nodeport' ? 'the NodePort answered as Postgres' : nodePort === undefined && config.transport === 'auto' ? 'no NodePort answered' : `transport "${config.transport}"`,
    }),
  };
}

async function serviceLink(chain: Chain, core: CoreV1Api, config: KindConfig, cluster: LoadedKubeConfig): Promise<V1Service | undefined> {
  const { namespace, service } = config;
  try {
    const found = await readService(core, { namespace, service, cluster });
    const ports = (found.spec?.ports ?? []).map((p) => `${p.port}→${p.targetPort ?? p.port}${p.nodePort ? ` (nodePort ${p.nodePort})` : ''}`).join(', ');
    chain.ok('service', `${namespace}/${service}: type ${found.spec?.type ?? 'ClusterIP'}, ports ${ports || 'none'}`);
    return found;
  } catch (error) {
    chain.fail('service', (error as Error).message, `apply the Postgres manifests (e.g. fixtures/kind/postgres.yaml) to namespace ${namespace}, or give --namespace and --service`);
    return undefined;
  }
}

async function podLink(chain: Chain, core: CoreV1Api, config: KindConfig, service: V1Service): Promise<ReadyPod | undefined> {
  const { namespace } = config;
  let selector: string;
  let pods: V1Pod[];
  try {
    selector = serviceSelector(service, config);
    pods = (await core.listNamespacedPod({ namespace, labelSelector: selector })).items;
  } catch (error) {
    chain.fail('pod', (error as Error).message.split('\n')[0]!, `check the Service's selector: \`kubectl -n ${namespace} get service ${config.service} -o yaml\``);
    return undefined;
  }
  const ready = pods.find(isReady);
  if (!ready?.metadata?.name) {
    const states = pods.map(describePod).join('; ') || 'none';
    chain.fail(
      'pod',
      `no Ready pod for service ${namespace}/${config.service} now (selector ${selector}; pods: ${states})`,
      `see why: \`kubectl -n ${namespace} describe pods -l ${selector}\` (a run waits up to ${config.readyTimeoutMs} ms for one)`,
    );
    return undefined;
  }
  chain.ok('pod', `${ready.metadata.name} is Ready${ready.spec?.nodeName ? ` on node ${ready.spec.nodeName}` : ''}`);
  return { name: ready.metadata.name, uid: ready.metadata.uid ?? '', ...(ready.spec?.nodeName ? { node: ready.spec.nodeName } : {}) };
}

/** The Secret's credentials; `{}` when none is configured; undefined when it cannot be read. */
async function secretLink(chain: Chain, core: CoreV1Api, config: KindConfig, cluster: LoadedKubeConfig): Promise<SecretCredentials | undefined> {
  if (!config.secret) return {};
  try {
    const found = await readCredentials(core, config.namespace, config.secret, cluster);
    const keys = Object.entries(found).filter(([, v]) => v !== undefined).map(([k]) => k);
    chain.ok('secret', `${config.namespace}/${config.secret} gives ${keys.join(', ')}`);
    return found;
  } catch (error) {
    chain.fail('secret', (error as Error).message, `create it with POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB, or give --secret with the right name`);
    return undefined;
  }
}

/** Every candidate address of the NodePort, probed; the first that answered, if any. */
async function nodePortLink(chain: Chain, core: CoreV1Api, config: KindConfig, cluster: LoadedKubeConfig, service: V1Service, pod: ReadyPod | undefined): Promise<HostPort | undefined> {
  if (config.transport === 'port-forward') {
    chain.skip('nodeport', 'not checked: transport "port-forward" is configured');
    return undefined;
  }
  const found = nodePortOf(service, config.port);
  if ('none' in found) {
    if (config.transport === 'nodeport') chain.fail('nodeport', found.none, 'make the Service type NodePort and map its nodePort to a host port (Kind extraPortMappings), or use --transport auto');
    else chain.skip('nodeport', `not used: ${found.none}; a run uses the port-forward`);
    return undefined;
  }
  const { attempts, answered } = await probeNodePort(
    {
      nodePort: found.nodePort,
      nodeAddress: config.nodeAddress,
      kindCluster: kindClusterOf(config.kindCluster, cluster.context),
      context: cluster.context,
      core,
      podNode: pod?.node,
      cluster,
    },
    { stopAtFirst: false },
  );
  const tried = describeAttempts(attempts);
  if (answered) {
    chain.ok('nodeport', `${formatHostPort(answered.address)} answers (${tried})`);
    return answered.address;
  }
  const fix = `map nodePort ${found.nodePort} to a host port in the Kind cluster's extraPortMappings (Postgres E2E host ports 25433–25442) and give it as --node-address`;
  if (config.transport === 'nodeport') chain.fail('nodeport', `no address of nodePort ${found.nodePort} answered as Postgres: ${tried}`, fix);
  else chain.warn('nodeport', `no address of nodePort ${found.nodePort} answered as Postgres: ${tried}`, fix);
  return undefined;
}

/** Opens the port-forward a run would open and asks Postgres for its first byte through it. */
async function portForwardLink(chain: Chain, config: KindConfig, cluster: LoadedKubeConfig, pod: ReadyPod, stack: TeardownStack): Promise<{ address: HostPort } | undefined> {
  const { namespace } = config;
  if (config.transport === 'nodeport') {
    chain.skip('port-forward', 'not checked: transport "nodeport" is configured');
    return undefined;
  }
  try {
    const forward = stack.use('doctor port-forward', await startPortForward({ kc: cluster.kc, namespace, remotePort: config.port, resolvePod: async () => pod }));
    await forward.probe();
    const result = await probePostgres({ host: '127.0.0.1', port: forward.port }, { timeoutMs: 5_000 });
    if (!result.ok) throw new Error(`port-forward to pod ${namespace}/${pod.name}:${config.port} opened, but Postgres did not answer through it: ${result.reason}`);
    chain.ok('port-forward', `127.0.0.1:${forward.port} → ${namespace}/${pod.name}:${config.port}: Postgres answered in ${result.ms} ms`);
    return { address: { host: '127.0.0.1', port: forward.port } };
  } catch (error) {
    const message = (error as Error).message;
    const forbidden = /HTTP 403|forbidden/i.test(message);
    chain.fail(
      'port-forward',
      message,
      forbidden
        ? `grant the kubeconfig user the "create" verb on pods/portforward in ${namespace}; check with \`kubectl --context ${cluster.context} auth can-i create pods --subresource=portforward -n ${namespace}\``
        : `is Postgres listening on port ${config.port} in the pod? (--port)`,
    );
    return undefined;
  }
}

/**
 * The permissions link: a denial fails when a run needs that permission (the port-forward's
 * only when the run would take the port-forward; nodes' never: they only help find the NodePort).
 */
function permissionsLink(review: { answers: PermissionAnswer[] } | { error: string }, uses: 'nodeport' | 'port-forward' | undefined, context: string): DoctorLink {
  if ('error' in review) return { link: 'permissions', status: 'warn', detail: `cannot ask the API server: ${review.error}`, fix: `ask with \`kubectl --context ${context} auth can-i --list\`` };
  const denied = review.answers.filter((a) => !a.allowed);
  if (denied.length === 0) return { link: 'permissions', status: 'ok', detail: `may ${review.answers.map(describePermission).join(', ')}` };
  const needed = denied.filter((a) => a.neededFor === 'always' || a.neededFor === 'secret' || (a.neededFor === 'port-forward' && uses !== 'nodeport'));
  const detail = `the kubeconfig user may not: ${denied.map(describePermission).join(', ')}${needed.length === 0 ? ` (a run does not need ${denied.length === 1 ? 'it' : 'them'}${uses === 'nodeport' ? ': it uses the NodePort' : ''})` : ''}`;
  const binding = denied.some((p) => p.namespace === undefined) ? 'a Role and RoleBinding; nodes a ClusterRole and ClusterRoleBinding' : 'a Role and RoleBinding';
  const fix = `grant ${denied.map(describePermission).join(', ')} (${binding}); check with ${denied.map((p) => `\`${canICommand(p, context)}\``).join(', ')}`;
  return { link: 'permissions', status: needed.length > 0 ? 'fail' : 'warn', detail, fix };
}

/** A transport link's failure counts only for the transport a run would take. */
function judged(link: DoctorLink, uses: 'nodeport' | 'port-forward' | undefined): DoctorLink {
  if (link.link === 'port-forward' && link.status === 'fail' && uses === 'nodeport') return { ...link, status: 'warn', detail: `${link.detail} (a run uses the NodePort)` };
  if ((link.link === 'nodeport' || link.link === 'port-forward') && link.status === 'ok' && link.link === uses) return { ...link, detail: `${link.detail}; a run uses this` };
  return link;
}

function credentialSource(config: KindConfig): string {
  if (config.credentials.password !== undefined) return 'the configured password';
  if (config.secret) return `secret ${config.namespace}/${config.secret}`;
  return 'the defaults (user slm_user, password test_password)';
}
