import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { apiReason, statusCode, statusMessage } from './kube-api-error.ts';

/** Where a request went: the server, and the loaded kubeconfig when the caller has it. */
export interface ApiEndpoint {
  readonly server: string;
  /** With its context selected: lets messages name the cluster, the user, the CA and the credentials. */
  readonly kc?: KubeConfig;
  readonly context?: string;
}

/**
 * Says why a Kubernetes API call failed, the way kubectl would, and what to check.
 *
 * client-node reports every transport failure as undici's `TypeError: fetch failed`; the real
 * reason (a TLS verification code, ECONNREFUSED, a handshake alert) sits in its `cause` chain.
 * A TLS, connection or authentication failure concerns the whole cluster, so its message names
 * the server, cluster and user; an HTTP answer concerns one object, so `doing` is added to it
 * (e.g. "looking up service ns/name").
 *
 * @example
 * explainApiFailure(error, loaded, `looking up service ${namespace}/${service}`)
 * // 'nothing listens at https://127.0.0.1:41237 (connection refused): is the Kind cluster running? `kind get clusters`'
 */
export function explainApiFailure(error: unknown, endpoint: ApiEndpoint | undefined, doing: string): string {
  const status = statusCode(error);
  const at = endpoint?.server ? ` at ${endpoint.server}` : '';
  if (status === 401) return unauthorized(error, endpoint, at);
  if (status !== undefined) return `the Kubernetes API server${at} answered ${status}: ${apiReason(error)} (${doing})`;
  const cause = rootCause(error);
  return (cause && (tlsFailure(cause, endpoint, at) ?? connectionFailure(cause, endpoint, at))) ?? `cannot reach the Kubernetes API server${at}: ${deepestMessage(error)} (${doing})`;
}

/** Node's verification codes for "no CA I was given signed this": Go says `certificate signed by unknown authority`. */
const UNKNOWN_AUTHORITY = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_UNTRUSTED',
]);

/** Other OpenSSL verification results Node reports by name; each means the server's certificate was refused. */
const OTHER_VERIFY_CODES = new Set(['CERT_REVOKED', 'CERT_REJECTED', 'INVALID_CA', 'INVALID_PURPOSE', 'PATH_LENGTH_EXCEEDED', 'CERT_CHAIN_TOO_LONG', 'HOSTNAME_MISMATCH']);

/** What a refused client certificate usually means, when this machine cannot tell which. */
const UNKNOWN_CERT_PROBLEM = 'expired or not signed by the cluster CA';

/** TLS alerts a server sends when it refuses the client's certificate, in Go's words (crypto/tls alert.go). */
const CLIENT_CERT_ALERTS: Readonly<Record<string, string>> = {
  BAD_CERTIFICATE: 'bad certificate',
  UNSUPPORTED_CERTIFICATE: 'unsupported certificate',
  CERTIFICATE_REVOKED: 'revoked certificate',
  CERTIFICATE_EXPIRED: 'expired certificate',
  CERTIFICATE_UNKNOWN: 'unknown certificate',
  UNKNOWN_CA: 'unknown certificate authority',
  CERTIFICATE_REQUIRED: 'certificate required',
  ACCESS_DENIED: 'access denied',
};

/** The server's certificate did not verify, or the server refused ours at the handshake. */
function tlsFailure(cause: CodedError, endpoint: ApiEndpoint | undefined, at: string): string | undefined {
  const { code } = cause;
  if (UNKNOWN_AUTHORITY.has(code)) {
    return `the API server${at} presents a certificate not signed by ${caSource(endpoint)}: x509: certificate signed by unknown authority${refreshHint(endpoint, 'if the cluster was recreated, ')}`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    const what = code === 'CERT_HAS_EXPIRED' ? 'an expired certificate' : 'a certificate that is not valid yet';
    return `the API server${at} presents ${what}: x509: certificate has expired or is not yet valid; check this machine's clock, then the cluster's certificates`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const host = typeof cause.host === 'string' ? cause.host : hostOf(endpoint?.server);
    return `the API server's certificate does not name ${host}: x509: certificate is valid for ${validNames(cause, host)}, not ${host}; use a server address it names, or set tls-server-name${clusterName(endpoint) ? ` for cluster ${clusterName(endpoint)}` : ''} in the kubeconfig`;
  }
  if (OTHER_VERIFY_CODES.has(code)) return `the API server${at} presents a certificate that does not verify (${code}): ${cause.message}`;
  const alert = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_(.+)$/.exec(code)?.[1];
  if (alert && CLIENT_CERT_ALERTS[alert]) {
    return `the API server${at} rejected the client certificate of ${userLabel(endpoint)} during the TLS handshake (${clientCertProblem(endpoint) ?? UNKNOWN_CERT_PROBLEM}): remote error: tls: ${CLIENT_CERT_ALERTS[alert]}${refreshHint(endpoint)}`;
  }
  if (alert) return `the TLS handshake with the API server${at} failed: remote error: tls: ${alert.toLowerCase().replaceAll('_', ' ')}`;
  return undefined;
}

/** Nothing (or not the API server) answered at the address, or the connection broke. */
function connectionFailure(cause: CodedError, endpoint: ApiEndpoint | undefined, at: string): string | undefined {
  const { code } = cause;
  const server = endpoint?.server ?? 'the API server';
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' || code === 'EPROTO') {
    return `${server} does not answer TLS (${code}): is the port that of the API server? \`kind get clusters\` and \`kubectl cluster-info\` show it`;
  }
  if (code === 'ECONNREFUSED') return `nothing listens at ${server} (connection refused): is the Kind cluster running? \`kind get clusters\``;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `cannot resolve the host of the API server ${server} (${cause.message}): check "server" of ${clusterName(endpoint) ? `cluster ${clusterName(endpoint)}` : 'the cluster'} in the kubeconfig`;
  }
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return `no answer from ${server} (connect timeout): is the cluster running, and reachable from this machine?`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `cannot reach ${server} (${code === 'EHOSTUNREACH' ? 'host' : 'network'} unreachable): check "server" in the kubeconfig`;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return `the API server${at} did not answer in time (${code}): is it overloaded or stuck?`;
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') {
    // A server that requires client certificates and is not Go (a Node server, some proxies)
    // drops the connection after the handshake instead of sending an alert: if the certificate
    // is visibly wrong, that is the likely reason.
    const problem = clientCertProblem(endpoint);
    const likely = problem ? `; the client certificate of ${userLabel(endpoint)} is ${problem}, which a server that requires client certificates refuses${refreshHint(endpoint)}` : '';
    return `the API server${at} closed the connection (${code}: ${cause.message})${likely}`;
  }
  return undefined;
}

/** 401: the server does not accept the user's credentials; for a client certificate, say why if we can tell. */
function unauthorized(error: unknown, endpoint: ApiEndpoint | undefined, at: string): string {
  const said = statusMessage(error) ?? 'Unauthorized';
  const user = endpoint?.kc?.getCurrentUser();
  if (!endpoint?.kc || !user) {
    return `the API server${at} rejected the kubeconfig's credentials (for Kind, a client certificate that expired or is not signed by the cluster CA): ${said}`;
  }
  if (user.certData || user.certFile) {
    return `the API server${at} rejected the client certificate of ${userLabel(endpoint)} (${clientCertProblem(endpoint) ?? UNKNOWN_CERT_PROBLEM}): ${said}${refreshHint(endpoint)}`;
  }
  if (user.token || user.authProvider?.config?.tokenFile) return `the API server${at} rejected the token of ${userLabel(endpoint)} (expired, revoked or for another cluster): ${said}`;
  if (user.exec) return `the API server${at} rejected the credentials the exec plugin \`${user.exec.command}\` of ${userLabel(endpoint)} gave: ${said}`;
  if (user.authProvider) return `the API server${at} rejected the credentials of auth provider ${user.authProvider.name} of ${userLabel(endpoint)}: ${said}`;
  if (user.username) return `the API server${at} rejected the username and password of ${userLabel(endpoint)}: ${said}`;
  return `the API server${at} wants credentials, and ${userLabel(endpoint)} in the kubeconfig has none: ${said}`;
}

/**
 * Why the server would refuse the user's client certificate, from what this machine can check:
 * its dates and whether the kubeconfig's CA signed it. Undefined when neither shows a problem.
 */
function clientCertProblem(endpoint: ApiEndpoint | undefined): string | undefined {
  const kc = endpoint?.kc;
  const user = kc?.getCurrentUser();
  const cert = certificates(user?.certData, user?.certFile)[0];
  if (!cert) return undefined;
  const now = Date.now();
  const notAfter = new Date(cert.validTo);
  const notBefore = new Date(cert.validFrom);
  if (notAfter.getTime() < now) return `expired on ${notAfter.toISOString()}`;
  if (notBefore.getTime() > now) return `not valid before ${notBefore.toISOString()}`;
  const cluster = kc?.getCurrentCluster();
  const cas = certificates(cluster?.caData, cluster?.caFile);
  if (cas.length > 0 && !cas.some((ca) => cert.verify(ca.publicKey))) return `not signed by the CA of cluster ${cluster?.name}`;
  return undefined;
}

/** The certificates of a kubeconfig `*-data` (base64 PEM) or file field; none when absent or unreadable. */
function certificates(data: string | undefined, file: string | undefined): X509Certificate[] {
  let pem: string;
  try {
    pem = data ? Buffer.from(data, 'base64').toString('utf8') : file ? readFileSync(file, 'utf8') : '';
  } catch {
    return []; // unreadable: client-node failed on it already; the message falls back to the general wording
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.flatMap((block) => {
    try {
      return [new X509Certificate(block)];
    } catch {
      return []; // not a certificate: nothing to check it against
    }
  });
}

function caSource(endpoint: ApiEndpoint | undefined): string {
  const cluster = endpoint?.kc?.getCurrentCluster();
  if (!cluster) return 'the CA in the kubeconfig';
  if (cluster.caData) return `the CA in the kubeconfig (certificate-authority-data of cluster ${cluster.name})`;
  if (cluster.caFile) return `the CA in the kubeconfig (certificate-authority ${cluster.caFile} of cluster ${cluster.name})`;
  return `a CA this machine trusts (cluster ${cluster.name} in the kubeconfig sets no certificate-authority)`;
}

/** A Kind cluster gets a new CA, client certificate and port when recreated: point at the command that refreshes them. */
function refreshHint(endpoint: ApiEndpoint | undefined, prefix = ''): string {
  const kind = endpoint?.context?.startsWith('kind-') ? endpoint.context.slice('kind-'.length) : undefined;
  return kind ? `; ${prefix}refresh the kubeconfig: \`kind export kubeconfig --name ${kind}\`` : '';
}

function userLabel(endpoint: ApiEndpoint | undefined): string {
  const name = endpoint?.kc?.getCurrentUser()?.name;
  return name ? `user ${name}` : 'the kubeconfig user';
}

function clusterName(endpoint: ApiEndpoint | undefined): string | undefined {
  return endpoint?.kc?.getCurrentCluster()?.name;
}

function hostOf(server: string | undefined): string {
  try {
    return server ? new URL(server).hostname.replace(/^\[|\]$/g, '') : 'the server host';
  } catch {
    return server ?? 'the server host'; // not a URL: name it as written
  }
}

/** Go lists the names of the kind that was checked: DNS names for a host name, IP addresses for an IP. */
function validNames(cause: CodedError, host: string): string {
  const altnames = typeof cause.cert?.subjectaltname === 'string' ? cause.cert.subjectaltname.split(', ') : [];
  const wanted = isIP(host) ? 'IP Address:' : 'DNS:';
  const names = altnames.filter((entry) => entry.startsWith(wanted)).map((entry) => entry.slice(wanted.length));
  return names.join(', ') || 'other names';
}

interface CodedError extends Error {
  readonly code: string;
  readonly host?: unknown;
  readonly cert?: { readonly subjectaltname?: unknown };
}

/** The innermost error with a string `code` (undici nests it under `cause`; dual-stack connects under AggregateError). */
function rootCause(error: unknown): CodedError | undefined {
  let found: CodedError | undefined;
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    if (typeof (current as { code?: unknown }).code === 'string') found = current as CodedError;
    const next: unknown = current.cause ?? (current instanceof AggregateError ? current.errors[0] : undefined);
    current = next;
  }
  return found;
}

function deepestMessage(error: unknown): string {
  let current: unknown = error;
  let message = String((error as Error)?.message ?? error);
  for (let depth = 0; current instanceof Error && depth < 10; depth += 1) {
    if (current.message) message = current.message;
    current = current.cause;
  }
  return message.split('\n')[0]!;
}
