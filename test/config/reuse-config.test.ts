import { describe, expect, test } from 'vitest';
import { parseCli } from '../../src/cli/parse-cli.ts';
import { resolveConfig } from '../../src/config/resolve-config.ts';
import { ConfigError } from '../../src/errors/errors.ts';

describe('reuse', () => {
  const notCi = { env: {} };

  test('is off unless asked for, by the block or by --reuse', () => {
    expect(resolveConfig({}, notCi)).toMatchObject({ target: 'embedded', reuse: false });
    expect(resolveConfig({ reuse: true }, notCi)).toMatchObject({ target: 'embedded', reuse: true });
    expect(resolveConfig({ reuse: true }, notCi)).not.toHaveProperty('reuseIgnored');
    expect(parseCli(['apply', '--all', '--reuse']).config).toMatchObject({ reuse: true });
    expect(parseCli(['apply', '--all']).config).not.toHaveProperty('reuse');
  });

  test.each(['1', 'true', 'TRUE', 'yes'])('is turned off when CI=%s, saying why', (ci) => {
    expect(resolveConfig({ reuse: true }, { env: { CI: ci } })).toMatchObject({ reuse: false, reuseIgnored: `CI is set (CI=${ci})` });
  });

  test.each(['', '0', 'false', 'False'])('stays on when CI=%j (not set)', (ci) => {
    expect(resolveConfig({ reuse: true }, { env: { CI: ci } })).toMatchObject({ reuse: true });
  });

  test('without reuse asked for, CI changes nothing and says nothing', () => {
    expect(resolveConfig({}, { env: { CI: 'true' } })).not.toHaveProperty('reuseIgnored');
  });

  test('belongs to the embedded target: elsewhere it is a ConfigError naming the key', () => {
    const onUrl = () => resolveConfig({ url: 'postgres://u:p@127.0.0.1:5432/db', reuse: true }, notCi);
    expect(onUrl).toThrow(ConfigError);
    expect(onUrl).toThrow(/"reuse" keeps an embedded Postgres running between runs; it does not apply to the url target/);
    try {
      resolveConfig({ namespace: 'kubernaut-system', reuse: true }, notCi);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ name: 'ConfigError', details: { key: 'reuse' } });
    }
    expect(() => resolveConfig({ reuse: 'yes' }, notCi)).toThrow(/"reuse": /);
  });

  test('is dropped with the other target keys when E2E_MIGRATIONS_TARGET_URL replaces the target', () => {
    const config = resolveConfig({ reuse: true }, { ...notCi, targetUrl: { url: 'postgres://u:p@127.0.0.1:5432/db', from: 'E2E_MIGRATIONS_TARGET_URL' } });
    expect(config.target).toBe('url');
  });
});
