import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { FIXTURES_DIR, fixtureLines } from './catalog-helpers.ts';

/*
 * The description lives in a shared folder beside the repo (../shared/schema); the repo
 * carries copies so that it stands alone. CI names that folder in E2E_MIGRATIONS_SHARED_SCHEMA,
 * and then the copies must not have drifted from it. Without the variable there is nothing to
 * compare with, and the comparison says so in its name.
 */
const SHARED_ENV = 'E2E_MIGRATIONS_SHARED_SCHEMA';
const sharedDir = process.env[SHARED_ENV] ? resolve(process.env[SHARED_ENV]) : undefined;
const FILES = ['ds-v1.catalog.txt', 'ds-v1.names.txt', 'catalog.sql'] as const;

describe('fixtures/schema', () => {
  test('holds the 450 catalog lines and the names', () => {
    expect(fixtureLines('ds-v1.catalog.txt')).toHaveLength(450);
    expect(fixtureLines('ds-v1.names.txt').length).toBeGreaterThan(0);
  });

  if (sharedDir === undefined) {
    test.skip(`is compared with ../shared/schema only when ${SHARED_ENV} names that folder (it is not set)`, () => undefined);
    return;
  }

  test(`${SHARED_ENV} names an existing folder`, () => {
    // Set but wrong is a broken CI job, not a reason to skip: say what is wrong.
    expect(existsSync(sharedDir) && statSync(sharedDir).isDirectory(), `${SHARED_ENV} names ${sharedDir}, which is not an existing folder`).toBe(true);
  });

  test.each(FILES)(`%s is byte-identical to its original in ${sharedDir}`, (file) => {
    const original = join(sharedDir, file);
    expect(existsSync(original), `${original} does not exist`).toBe(true);
    expect(readFileSync(join(FIXTURES_DIR, file)).equals(readFileSync(original)), `${file} differs from ${original}`).toBe(true);
  });
});
