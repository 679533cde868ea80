import { describe, expect, test } from 'vitest';
import { defaultMigrationConfig, resolveConfig } from '../../src/config/resolve-config.ts';
import { ConfigError } from '../../src/errors/errors.ts';

describe('resolveConfig', () => {
  test('an empty block means the embedded target, all tables and the documented defaults', () => {
    expect(resolveConfig({})).toEqual({
      source: 'configuration',
      target: 'embedded',
      user: 'slm_user',
      password: 'test_password',
      database: 'action_history',
      shareDatabase: false,
      reuse: false,
      tables: [],
      migrations: undefined,
      partitions: { monthsBack: 1, monthsAhead: 3, tables: [] },
      allowMissing: false,
      verify: true,
      lockTimeoutMs: 60_000,
      isolate: false,
    });
    expect(Object.isFrozen(resolveConfig({}))).toBe(true);
  });

  test('shareDatabase belongs to the embedded target: elsewhere it is an error naming the key', () => {
    expect(resolveConfig({ shareDatabase: true })).toMatchObject({ target: 'embedded', shareDatabase: true });
    expect(() => resolveConfig({ url: 'postgres://u:p@127.0.0.1:5432/db', shareDatabase: true })).toThrow(/"shareDatabase" only applies to the embedded target.*"url"/);
    expect(() => resolveConfig({ shareDatabase: 'yes' })).toThrow(/"shareDatabase": /);
  });

  test('the Kind target carries its own keys with defaults, and only explicit credentials', () => {
    expect(resolveConfig({ namespace: 'kubernaut-system', user: 'me' })).toMatchObject({
      target: 'kind',
      namespace: 'kubernaut-system',
      service: 'postgresql',
      port: 5432,
      readyTimeoutMs: 300_000,
      credentials: { user: 'me' },
    });
  });

  test('a URL keeps every parameter; credentials given apart complete it, defaults fill the rest', () => {
    const config = resolveConfig({ url: 'postgres://db.example:6543/?sslmode=require&application_name=gw', password: 'from-env' });
    expect(config.target === 'url' && config.connection).toEqual({
      host: 'db.example',
      port: 6543,
      user: 'slm_user',
      password: 'from-env',
      database: 'action_history',
      params: { sslmode: 'require', application_name: 'gw' },
    });
  });

  test('credentials that contradict the URL are a usage error naming the key, never the password', () => {
    const attempt = () =>
      resolveConfig({ url: 'postgres://u:url-secret@h/d', password: 'other-secret' }, { source: 'command line', credentialSources: { password: 'E2E_MIGRATIONS_PASSWORD' } });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow('command line: E2E_MIGRATIONS_PASSWORD contradicts the password in "url"');
    try {
      attempt();
    } catch (error) {
      expect((error as ConfigError).exitCode).toBe(2);
      expect((error as ConfigError).details.key).toBe('password');
      expect((error as Error).message).not.toMatch(/url-secret|other-secret/);
    }
    expect(() => resolveConfig({ url: 'postgres://u@h/d', user: 'v' })).toThrow('"user" "v" contradicts the user "u" in "url"');
  });

  test('E2E_MIGRATIONS_TARGET_URL replaces the target and keeps tables and options', () => {
    const config = resolveConfig(
      { namespace: 'kubernaut-system', kindCluster: 'e2e', secret: 's', tables: ['audit_events'], partitions: { monthsAhead: 1 }, isolate: 'file' },
      { source: 'svc/vitest.config.ts', targetUrl: { url: 'postgres://u:p@db:5432/shared', from: 'E2E_MIGRATIONS_TARGET_URL' } },
    );
    expect(config).toMatchObject({ target: 'url', url: 'postgres://u:p@db:5432/shared', tables: ['audit_events'], partitions: { monthsBack: 1, monthsAhead: 1 }, isolate: 'file' });
    expect(() => resolveConfig({}, { source: 'x.ts', targetUrl: { url: 'mysql://x', from: 'E2E_MIGRATIONS_TARGET_URL' } })).toThrow(
      /E2E_MIGRATIONS_TARGET_URL with x\.ts.*"url"/,
    );
    // The block itself is still checked: a typo is named even when the target is replaced.
    expect(() => resolveConfig({ verfy: true }, { source: 'x.ts', targetUrl: { url: 'postgres://h/d', from: 'E2E_MIGRATIONS_TARGET_URL' } })).toThrow('unknown key "verfy"');
  });

  test('the target follows from the keys given', () => {
    expect(resolveConfig({ url: 'postgres://u:p@db:5432/x' }).target).toBe('url');
    expect(resolveConfig({ namespace: 'kubernaut-system' }).target).toBe('kind');
    expect(resolveConfig({ tables: 'all' }).tables).toEqual([]);
  });

  test.each([
    [{ tabels: ['audit_events'] }, 'tabels', 'unknown key "tabels"'],
    [{ tables: 'audit_events' }, 'tables', '"tables": '],
    [{ tables: [42] }, 'tables[0]', '"tables[0]": '],
    [{ port: '5432' }, 'port', '"port": '],
    [{ partitions: { monthsBack: -1 } }, 'partitions.monthsBack', '"partitions.monthsBack": '],
    [{ partitions: { ahead: 2 } }, 'ahead', 'unknown key "partitions.ahead"'],
    [{ url: 'mysql://x' }, 'url', '"url": must be a postgres:// URL'],
    [{ target: 'kind' }, 'namespace', '"namespace" is required for the Kind target'],
    [{ url: 'postgres://x/y', namespace: 'a' }, 'namespace', '"namespace" only apply to the Kind target, but the target is "url"'],
    [{ target: 'kind', namespace: 'a', url: 'postgres://x/y' }, 'url', '"url" cannot be combined with target "kind"'],
    [{ target: 'embedded', kubeconfig: '/k' }, 'kubeconfig', '"kubeconfig" only apply to the Kind target'],
    // Kind-only keys never fall back to another target silently.
    [{ service: 'pg', readyTimeoutMs: 5 }, 'namespace', '"namespace" is required for the Kind target (the namespace of the "pg" Service)'],
    [{ target: 'embedded', port: 5433 }, 'port', '"port" only apply to the Kind target, but the target is "embedded" (add "namespace" for Kind)'],
    [{ isolate: 'worker' }, 'isolate', '"isolate": must be "file" or false'],
  ])('%j is refused naming the key %s', (input, key, message) => {
    const attempt = () => resolveConfig(input, { source: 'vitest.config.ts' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
    expect(attempt).toThrow(/^(invalid )?vitest\.config\.ts/);
    try {
      attempt();
    } catch (error) {
      expect((error as ConfigError).details.key).toBe(key);
      expect((error as ConfigError).exitCode).toBe(2);
    }
  });

  test('defaultMigrationConfig mirrors the Go library', () => {
    expect(defaultMigrationConfig('kubernaut-system', '/home/me/.kube/kind')).toMatchObject({
      target: 'kind',
      namespace: 'kubernaut-system',
      kubeconfig: '/home/me/.kube/kind',
      service: 'postgresql',
      credentials: { user: 'slm_user', password: 'test_password', database: 'action_history' },
      tables: [],
    });
  });
});
