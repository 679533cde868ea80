import { beforeAll, describe, expect, test } from 'vitest';
import { dsV1 } from '../../src/schema/ds-v1.ts';
import { applyAllMigrations } from '../../src/api/apply-migrations.ts';
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts';
import { catalogLines, diffLines, fixtureLines, formatDiff, nameLines } from './catalog-helpers.ts';

describe('every migration applied to an empty database by the engine', () => {
  let catalog: string[];
  let names: string[];

  beforeAll(async () => {
    const db: FreshDatabase = await freshDatabase('catalog');
    try {
      // The product's own path (ledger, per-migration transactions, monthly partitions, verify), not a shortcut.
      await applyAllMigrations({ url: db.url, logger: false, now: new Date('2025-06-15T12:00:00Z') });
      catalog = await catalogLines(db.url);
      names = await nameLines(db.url);
    } finally {
      await db.drop();
    }
  });

  test('reports exactly the lines of ds-v1.catalog.txt', () => {
    const expected = fixtureLines('ds-v1.catalog.txt');
    const diff = diffLines(expected, catalog);
    // The message is the diff, so a failure says which objects differ, not just "not equal".
    expect(diff, formatDiff(diff, 'catalog vs ds-v1.catalog.txt')).toEqual({ missing: [], extra: [] });
    expect(catalog).toHaveLength(450);
  });

  test('names its constraints, indexes and triggers as ds-v1.names.txt does', () => {
    const diff = diffLines(fixtureLines('ds-v1.names.txt'), names);
    expect(diff, formatDiff(diff, 'names vs ds-v1.names.txt')).toEqual({ missing: [], extra: [] });
  });
});

describe('the typed schema dsV1', () => {
  // Rebuilds the catalog's relation and column lines from dsV1 (defaults only as present or
  // not, since dsV1 does not carry their text), so the types cannot drift from the description.
  const normalise = (line: string) => line.replace(/ default=.*$/, ' default');

  test('has the relations and columns of ds-v1.catalog.txt', () => {
    const expected = fixtureLines('ds-v1.catalog.txt')
      .filter((line) => line.startsWith('column ') || line.startsWith('relation '))
      .map(normalise);
    const actual = Object.entries(dsV1).flatMap(([relation, spec]) => [
      `relation ${relation} ${spec.kind}`,
      ...Object.entries(spec.columns).map(
        ([column, c]) =>
          `column ${relation}.${column} ${c.type}${c.notNull ? ' not-null' : ''}${c.hasDefault ? ' default' : ''}`,
      ),
    ]);
    const diff = diffLines(expected, actual);
    expect(diff, formatDiff(diff, 'dsV1 vs ds-v1.catalog.txt')).toEqual({ missing: [], extra: [] });
  });

  test('lists view columns in the order the views return them', () => {
    const views = fixtureLines('ds-v1.catalog.txt').filter((line) => line.startsWith('view '));
    const actual = Object.entries(dsV1)
      .filter(([, spec]) => spec.kind === 'view')
      .map(([relation, spec]) => `view ${relation} columns=${Object.keys(spec.columns).join(',')}`);
    expect(actual.sort()).toEqual(views.sort());
  });
});

test('a mismatch is reported line by line: what is missing, then what is extra', () => {
  const diff = diffLines(['a', 'b', 'b'], ['b', 'c']);
  expect(diff).toEqual({ missing: ['a', 'b'], extra: ['c'] });
  expect(formatDiff(diff, 'catalog')).toBe('catalog: 2 missing, 1 extra\n- a\n- b\n+ c');
});
