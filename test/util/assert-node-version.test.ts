import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/errors/errors.ts';
import { assertNodeVersion } from '../../src/util/assert-node-version.ts';

describe('assertNodeVersion', () => {
  test('refuses Node 20 with a usage error that names both versions', () => {
    const error = (() => {
      try {
        assertNodeVersion('22.19.0', 'v20.20.2');
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe('e2e-migrations needs Node ≥ 22.19, found v20.20.2');
    expect((error as ConfigError).exitCode).toBe(2);
  });

  test.each(['v22.19.0', 'v22.20.1', 'v24.21.0', '24.21.0', 'v25.0.0-nightly20260101abcdef'])('accepts %s', (version) => {
    expect(() => assertNodeVersion('22.19.0', version)).not.toThrow();
  });

  test.each(['v22.18.9', 'v22.9.0', 'v21.99.99', 'v18.20.8'])('refuses %s', (version) => {
    expect(() => assertNodeVersion('22.19.0', version)).toThrow(`e2e-migrations needs Node ≥ 22.19, found ${version}`);
  });

  test('compares numerically, not as text (22.9 < 22.19 < 22.100)', () => {
    expect(() => assertNodeVersion('22.19.0', 'v22.9.0')).toThrow(ConfigError);
    expect(() => assertNodeVersion('22.19.0', 'v22.100.0')).not.toThrow();
  });

  test('a minimum with a patch level is named in full', () => {
    expect(() => assertNodeVersion('22.19.2', 'v22.19.1')).toThrow('e2e-migrations needs Node ≥ 22.19.2, found v22.19.1');
  });

  test('defaults to 22.19.0 and the running Node, which passes here', () => {
    expect(() => assertNodeVersion()).not.toThrow();
  });

  test('an unreadable minimum is a programming error', () => {
    expect(() => assertNodeVersion('latest', 'v24.21.0')).toThrow(TypeError);
  });
});
