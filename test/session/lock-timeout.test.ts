import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { applyMigrations, MigrationError } from '../../src/index.ts';
import { MIGRATION_LOCK_KEY } from '../../src/migrate/migration-lock.ts';
import { freshDatabase } from '../support/fresh-database.ts';
import { collector } from '../support/log-sink.ts';

describe('the migration lock', () => {
  test('a held lock is waited for up to lockTimeoutMs, naming its holder; the next run finishes the job', async () => {
    await using db = await freshDatabase('lock');
    const holder = new pg.Client({ ...db.connection, application_name: 'someone-else-migrating' });
    await holder.connect();
    await holder.query('select pg_advisory_lock(hashtextextended($1, 0))', [MIGRATION_LOCK_KEY]);
    const log = collector();
    try {
      const error = await applyMigrations({ url: db.url, tables: ['audit_events'], lockTimeoutMs: 300, logger: log }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as Error).message).toMatch(/^the migration lock is still held after 300 ms by pid \d+ \(application_name "someone-else-migrating"/);
      expect(log.text()).toMatch(/migrate\s+waiting for the migration lock, held by pid \d+ \(application_name "someone-else-migrating"/);
      expect(log.text()).toMatch(/teardown ok/);
    } finally {
      await holder.end();
    }
    const result = await applyMigrations({ url: db.url, tables: ['audit_events'], lockTimeoutMs: 300, logger: false });
    expect(result.applied).toEqual(['0010_audit_events']);
  });
});
