/**
 * Rewrites the schema description the tests compare against (fixtures/schema/ds-v1.catalog.txt
 * and ds-v1.names.txt) from what the shipped migrations build, through the product's own
 * path, on a throwaway embedded Postgres. After adding a migration: run it, read the diff
 * (`git diff fixtures/schema`), commit it. The DS team's published copy (../shared/schema) is
 * still the authority: the shared-schema test fails until it says the same.
 *
 *   npm run schema:describe
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { applyAllMigrations } from '../src/api/apply-migrations.ts';
import { formatConnectionString } from '../src/postgres/connection-string.ts';
import { startEmbeddedTarget } from '../src/target/embedded/embedded-target.ts';
import { catalogLines, FIXTURES_DIR, fixtureLines, nameLines } from '../test/migrations/catalog-helpers.ts';

const server = await startEmbeddedTarget({ user: 'postgres', password: 'describe-schema', database: 'describe' });
try {
  const url = formatConnectionString(server.connection);
  await applyAllMigrations({ url, logger: false });
  for (const [file, lines] of [
    ['ds-v1.catalog.txt', await catalogLines(url)],
    ['ds-v1.names.txt', await nameLines(url)],
  ] as const) {
    const before = fixtureLines(file);
    await writeFile(join(FIXTURES_DIR, file), `${lines.join('\n')}\n`);
    const added = lines.filter((line) => !before.includes(line)).length;
    const removed = before.filter((line) => !lines.includes(line)).length;
    console.log(`${join('fixtures/schema', file)}: ${lines.length} lines (${added} new, ${removed} gone)`);
  }
} finally {
  await server.close();
}
