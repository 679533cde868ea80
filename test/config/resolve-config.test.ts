import { describe, expect, test } from 'vitest';
import { defaultMigrationConfig, resolveConfig } from '../../src/config/resolve-config.ts';
import { ConfigError } from '../../src/errors/errors.ts';

describe('resolveConfig', () => {
  test('an empty block means the embedded target, all tables and the documented defaults', () => {
    expect(resolveConfig({})).toEqual({
      target: 'embedded',
      service: 'postgresql',
      port: 5432,
      tables: [],
      partitions: { monthsBack: 1, monthsAhead: 3 },
      readyTimeoutMs: 300_000,
      verify: true,
    });
    expect(Object.isFrozen(resolveConfig({}))).toBe(true);
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
  ])('%j is refused naming the key %s', (input, key, message) => {
    const attempt = () => resolveConfig(input, 'vitest.config.ts');
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
      user: 'slm_user',
      password: 'test_password',
      database: 'action_history',
      tables: [],
    });
  });
});
