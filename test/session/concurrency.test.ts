import { describe, expect, test } from 'vitest';
import { applyMigrations, availableMigrations } from '../../src/index.ts';
import { freshDatabase } from '../support/fresh-database.ts';

describe('many runs at once on one database', () => {
  test('32 concurrent `apply --all` all succeed and apply each migration exactly once', async () => {
    await using db = await freshDatabase('concurrent');
    const now = new Date('2025-06-15T12:00:00Z');
    const runs = await Promise.all(Array.from({ length: 32 }, () => applyMigrations({ url: db.url, tables: 'all', logger: false, now })));
    const all = (await availableMigrations()).map((m) => m.name);
    const appliedBy = runs.flatMap((run) => run.applied);
    expect(appliedBy.sort()).toEqual([...all].sort());
    for (const run of runs) expect([...run.applied, ...run.alreadyApplied].sort()).toEqual([...all].sort());
  });
});
