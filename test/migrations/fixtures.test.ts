import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { FIXTURES_DIR, fixtureLines } from './catalog-helpers.ts';

// The description lives in a shared folder beside the repo during development; the repo
// carries copies so that it stands alone. When the folder is there, the copies must not drift.
const SHARED_DIR = join(FIXTURES_DIR, '..', '..', '..', 'shared', 'schema');
const FILES = ['ds-v1.catalog.txt', 'ds-v1.names.txt', 'catalog.sql'] as const;
const sharedPresent = existsSync(SHARED_DIR);

describe('fixtures/schema', () => {
  test('holds the 450 catalog lines and the names', () => {
    expect(fixtureLines('ds-v1.catalog.txt')).toHaveLength(450);
    expect(fixtureLines('ds-v1.names.txt').length).toBeGreaterThan(0);
  });

  test.skipIf(!sharedPresent).each(FILES)(
    sharedPresent
      ? `%s is byte-identical to ${SHARED_DIR}`
      : `%s: SKIPPED, ${SHARED_DIR} does not exist beside the repo, nothing to compare the copy with`,
    (file) => {
      expect(readFileSync(join(FIXTURES_DIR, file)).equals(readFileSync(join(SHARED_DIR, file))), `${file} differs`).toBe(true);
    },
  );
});
