import pg from 'pg';
import { describe, expect, inject, test } from 'vitest';
import type { MigrationConfigInput } from '../../src/config/config-schema.ts';
import { formatConnectionString } from '../../src/postgres/connection-string.ts';
import { cloneDatabase, dropClones } from '../../src/provide/clone.ts';
import { assertClonePrefix, clonePrefix, templateName } from '../../src/provide/clone-names.ts';
import { ensureTemplate } from '../../src/provide/template.ts';
import { startSession } from '../../src/session/start-session.ts';
import { freshDatabase } from '../support/fresh-database.ts';

/** A session on a URL, as the runners open one (quiet). */
const session = (url: string, block: MigrationConfigInput) => startSession({ url, ...block, logger: false });

const key = (checksum: string) => ({ kind: 'kysely', migrations: [{ name: '0010_audit_events', checksum }], partitions: { monthsBack: 1, monthsAhead: 3 } });

async function databases(pattern: string): Promise<{ datname: string; datistemplate: boolean }[]> {
  const client = new pg.Client({ ...inject('pgAdmin') });
  await client.connect();
  try {
    return (await client.query('select datname, datistemplate from pg_database where datname like $1 order by datname', [pattern])).rows;
  } finally {
    await client.end();
  }
}

describe('template and clone names', () => {
  test('the template name is a hash of the migrations: same input, same name; any change, a new one', () => {
    expect(templateName(key('a'.repeat(64)))).toBe(templateName(key('a'.repeat(64))));
    expect(templateName(key('a'.repeat(64)))).toMatch(/^e2e_tpl_[0-9a-f]{16}$/);
    expect(templateName(key('b'.repeat(64)))).not.toBe(templateName(key('a'.repeat(64))));
    expect(templateName({ ...key('a'.repeat(64)), partitions: { monthsBack: 0, monthsAhead: 3 } })).not.toBe(templateName(key('a'.repeat(64))));
  });

  test('clone prefixes have one shape, so a sweep can never reach another database', () => {
    const template = templateName(key('a'.repeat(64)));
    expect(clonePrefix(template, 'abc123')).toBe(`${template}_abc123_`);
    for (const bad of ['', 'action_history', 'e2e_tpl_', `${template}_x"; drop_`, `${template}_abc123`]) {
      expect(() => assertClonePrefix(bad), bad).toThrow(/not an e2e-migrations clone prefix/);
    }
  });
});

describe('ensureTemplate, cloneDatabase, dropClones on a real server', () => {
  test('parallel setups: one builds the template, the others reuse it; clones in parallel; the sweep drops only the clones', async () => {
    await using db = await freshDatabase('iso');
    const block = { tables: ['audit_events'], partitions: { monthsBack: 0, monthsAhead: 1 } };
    const sessions = await Promise.all([1, 2, 3].map(() => session(db.url, block)));
    const results = await Promise.all(sessions.map((s) => ensureTemplate(s)));
    await Promise.all(sessions.map((s) => s.close()));
    const name = results[0]!.name;
    expect(results.every((r) => r.name === name)).toBe(true);
    expect(results.filter((r) => r.built)).toHaveLength(1);
    expect(results.find((r) => r.built)!.migrations.applied).toEqual(['0010_audit_events']);
    for (const reused of results.filter((r) => !r.built)) expect(reused.migrations).toMatchObject({ applied: [], alreadyApplied: ['0010_audit_events'] });
    expect(await databases(name)).toEqual([{ datname: name, datistemplate: true }]);

    const prefix = clonePrefix(name);
    const clones = await Promise.all(Array.from({ length: 6 }, () => cloneDatabase(db.connection, name, prefix)));
    expect(new Set(clones.map((c) => c.database)).size).toBe(6);
    const client = new pg.Client({ ...clones[0]! });
    await client.connect();
    const { rows } = await client.query("select to_regclass('audit_events')::text as t");
    await client.end();
    expect(rows).toEqual([{ t: 'audit_events' }]);

    const other = clonePrefix(name);
    const survivor = await cloneDatabase(db.connection, name, other);
    expect((await dropClones(db.connection, prefix)).sort()).toEqual(clones.map((c) => c.database).sort());
    expect(await databases(`${prefix}%`)).toEqual([]);
    expect(await databases(survivor.database)).toHaveLength(1);
    expect(await dropClones(db.connection, other)).toEqual([survivor.database]);
  });

  test('a template left half-built (not marked IS_TEMPLATE) is dropped and rebuilt', async () => {
    await using db = await freshDatabase('iso_half');
    const block = { tables: ['audit_events'], partitions: { monthsBack: 2, monthsAhead: 0 } };
    const first = await session(db.url, block);
    const { name } = await ensureTemplate(first).finally(() => first.close());
    const admin = new pg.Client({ ...inject('pgAdmin') });
    await admin.connect();
    await admin.query(`ALTER DATABASE ${pg.escapeIdentifier(name)} IS_TEMPLATE false`);
    await admin.end();
    await using second = await session(db.url, block);
    const again = await ensureTemplate(second);
    expect(again).toMatchObject({ name, built: true });
    expect(await databases(name)).toEqual([{ datname: name, datistemplate: true }]);
  });

  test('a user without CREATEDB gets told what isolation needs', async () => {
    await using db = await freshDatabase('iso_nocreate');
    const admin = new pg.Client({ ...inject('pgAdmin'), database: db.connection.database });
    await admin.connect();
    const role = `nocreate_${db.connection.database.slice(-8)}`;
    await admin.query(`CREATE ROLE ${pg.escapeIdentifier(role)} LOGIN PASSWORD 'nocreate-pw' NOCREATEDB`);
    await admin.query(`GRANT ALL ON SCHEMA public TO ${pg.escapeIdentifier(role)}`);
    await admin.end();
    try {
      const url = formatConnectionString({ ...db.connection, user: role, password: 'nocreate-pw' });
      // A partition window of its own: a template no other test built on this server yet.
      await using limited = await session(url, { tables: ['audit_events'], partitions: { monthsBack: 7, monthsAhead: 2 } });
      await expect(ensureTemplate(limited)).rejects.toThrow(`may not create databases; isolate: 'file' needs a user with CREATEDB`);
    } finally {
      const cleanup = new pg.Client({ ...inject('pgAdmin') });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE ${pg.escapeIdentifier(db.connection.database)} WITH (FORCE)`);
      await cleanup.query(`DROP ROLE ${pg.escapeIdentifier(role)}`);
      await cleanup.end();
    }
  });
});
