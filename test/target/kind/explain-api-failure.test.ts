import { describe, expect, test } from 'vitest';
import { explainApiFailure } from '../../../src/target/kind/explain-api-failure.ts';

// Failures the simulator cannot produce (DNS, timeouts, TLS alerts from a Go server), shaped as
// client-node hands them over: undici's `TypeError: fetch failed` with the reason as `cause`.
const fetchFailed = (code: string, message: string, extra: object = {}) =>
  new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }, extra) });

const server = 'https://127.0.0.1:6443';
const doing = 'looking up service kubernaut-system/postgresql';
const explain = (error: unknown) => explainApiFailure(error, { server }, doing);

describe('explainApiFailure', () => {
  test.each([
    ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'remote error: tls: bad certificate'],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'remote error: tls: certificate required'],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'remote error: tls: unknown certificate authority'],
    ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', 'remote error: tls: expired certificate'],
  ])('a handshake alert %s names the client certificate, in Go’s words', (code, words) => {
    expect(explain(fetchFailed(code, 'ssl3_read_bytes:alert'))).toBe(
      `the API server at ${server} rejected the client certificate of the kubeconfig user during the TLS handshake (expired or not signed by the cluster CA): ${words}`,
    );
  });

  test('other alerts are a failed handshake', () => {
    expect(explain(fetchFailed('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'alert'))).toBe(`the TLS handshake with the API server at ${server} failed: remote error: tls: handshake failure`);
  });

  test('an expired server certificate', () => {
    expect(explain(fetchFailed('CERT_HAS_EXPIRED', 'certificate has expired'))).toBe(
      `the API server at ${server} presents an expired certificate: x509: certificate has expired or is not yet valid; check this machine's clock, then the cluster's certificates`,
    );
  });

  test('a host that does not resolve', () => {
    const error = fetchFailed('ENOTFOUND', 'getaddrinfo ENOTFOUND kind-control-plane');
    expect(explainApiFailure(error, { server: 'https://kind-control-plane:6443' }, doing)).toBe(
      'cannot resolve the host of the API server https://kind-control-plane:6443 (getaddrinfo ENOTFOUND kind-control-plane): check "server" of the cluster in the kubeconfig',
    );
  });

  test('a connect timeout', () => {
    expect(explain(fetchFailed('UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error'))).toBe(
      `no answer from ${server} (connect timeout): is the cluster running, and reachable from this machine?`,
    );
  });

  test('refused on every address of a dual-stack name (AggregateError)', () => {
    const refused = (address: string) => Object.assign(new Error(`connect ECONNREFUSED ${address}:6443`), { code: 'ECONNREFUSED' });
    const error = new TypeError('fetch failed', { cause: Object.assign(new AggregateError([refused('::1'), refused('127.0.0.1')]), { code: 'ECONNREFUSED' }) });
    expect(explainApiFailure(error, { server: 'https://localhost:6443' }, doing)).toBe(
      'nothing listens at https://localhost:6443 (connection refused): is the Kind cluster running? `kind get clusters`',
    );
  });

  test('an HTTP answer keeps the Status message and says what was being done', () => {
    const forbidden = Object.assign(new Error('HTTP-Code: 403'), {
      code: 403,
      body: { kind: 'Status', message: 'services "postgresql" is forbidden: User "kind-e2e" cannot get resource "services"' },
    });
    expect(explain(forbidden)).toBe(
      `the Kubernetes API server at ${server} answered 403: services "postgresql" is forbidden: User "kind-e2e" cannot get resource "services" (${doing})`,
    );
  });

  test('anything else: the innermost message, and what was being done', () => {
    expect(explain(new TypeError('fetch failed', { cause: new Error('bad port') }))).toBe(`cannot reach the Kubernetes API server at ${server}: bad port (${doing})`);
    expect(explainApiFailure(new Error('HTTP protocol is not allowed when skipTLSVerify is not set or false'), undefined, doing)).toBe(
      `cannot reach the Kubernetes API server: HTTP protocol is not allowed when skipTLSVerify is not set or false (${doing})`,
    );
  });
});
