import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/errors/errors.ts';
import { readJestBlock } from '../../src/runners/jest/read-jest-block.ts';
import { envOf, providedFromEnv, type ProvidedDatabase } from '../../src/provide/provided.ts';

describe('what tests receive', () => {
  test('the environment round-trips what tests get', () => {
    const provided: ProvidedDatabase = { url: 'postgres://u:p%40ss@h:6543/d', host: 'h', port: 6543, database: 'd', user: 'u', tables: ['a', 'b'], isolate: { template: 'e2e_tpl_0123456789abcdef', clonePrefix: 'e2e_tpl_0123456789abcdef_abcdef_', leases: `${'0'.repeat(32)}@127.0.0.1:40000` } };
    expect(providedFromEnv(envOf(provided))).toEqual(provided);
  });
});

describe('the Jest block', () => {
  test('from testEnvironmentOptions, from e2e-migrations.config.json, not from both', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jest-block-'));
    try {
      await writeFile(join(dir, 'jest.config.mjs'), 'export default {};\n');
      expect(await readJestBlock({ rootDir: dir, testEnvironmentOptions: { migrations: { tables: ['audit_events'] } } })).toEqual({
        raw: { tables: ['audit_events'] },
        configFile: `${join(dir, 'jest.config.mjs')} (testEnvironmentOptions.migrations)`,
      });
      expect(await readJestBlock({ rootDir: dir, testEnvironmentOptions: {} })).toEqual({ raw: undefined, configFile: join(dir, 'jest.config.mjs') });
      await writeFile(join(dir, 'e2e-migrations.config.json'), '{ "tables": "all" }');
      expect(await readJestBlock({ rootDir: dir })).toEqual({ raw: { tables: 'all' }, configFile: join(dir, 'e2e-migrations.config.json') });
      await expect(readJestBlock({ rootDir: dir, testEnvironmentOptions: { migrations: {} } })).rejects.toThrow(/given twice/);
      await writeFile(join(dir, 'e2e-migrations.config.json'), '{ "tables": ');
      await expect(readJestBlock({ rootDir: dir })).rejects.toThrow(/cannot read .*e2e-migrations\.config\.json/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
