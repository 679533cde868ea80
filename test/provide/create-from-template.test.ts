import pg from 'pg';
import { describe, expect, inject, test } from 'vitest';
import type { ConnectionInfo } from '../../src/postgres/connection-string.ts';
import { dropClones } from '../../src/provide/clone.ts';
import { clonePrefix } from '../../src/provide/clone-names.ts';
import { chooseStrategy, cloneStrategy, createFromTemplate } from '../../src/provide/create-from-template.ts';
import { ensureTemplate } from '../../src/provide/template.ts';
import { startSession } from '../../src/session/start-session.ts';
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts';

// A partition window no other test file uses: the template is this file's own (isolate.test.ts counts builds).
const BLOCK = { tables: ['audit_events'], partitions: { monthsBack: 5, monthsAhead: 1 } };

async function withAdmin<T>(body: (client: pg.Client) => Promise<T>, database?: string): Promise<T> {
  const client = new pg.Client({ ...inject('pgAdmin'), ...(database ? { database } : {}) });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

/** A database with the template of BLOCK built on the suite's server. */
async function withTemplate(prefix: string): Promise<{ db: FreshDatabase; template: string }> {
  const db = await freshDatabase(prefix);
  await using session = await startSession({ url: db.url, ...BLOCK, logger: false });
  return { db, template: (await ensureTemplate(session)).name };
}

async function hasAuditEvents(connection: ConnectionInfo): Promise<boolean> {
  const client = new pg.Client({ ...connection });
  await client.connect();
  try {
    return (await client.query("select to_regclass('audit_events') is not null as ok")).rows[0].ok;
  } finally {
    await client.end();
  }
}

describe('the strategy of CREATE DATABASE', () => {
  test('FILE_COPY where fsync is off (checkpoints are free), the server default where it is on, none before 15', () => {
    expect(chooseStrategy(140_011, false)).toBeUndefined();
    expect(chooseStrategy(150_004, true)).toBe('WAL_LOG');
    expect(chooseStrategy(160_004, false)).toBe('FILE_COPY');
  });

  test('createFromTemplate copies a template with the strategy chosen for the server (the embedded one runs without fsync)', async () => {
    const { db, template } = await withTemplate('strategy');
    await using _db = db;
    const prefix = clonePrefix(template);
    const [name, other] = [`${prefix}0badc0de`, `${prefix}0badc0df`];
    try {
      await withAdmin(async (client) => {
        expect(await cloneStrategy(client)).toBe('FILE_COPY');
        await createFromTemplate(client, template, name);
        await createFromTemplate(client, template, other, 'WAL_LOG');
        await expect(createFromTemplate(client, template, name)).rejects.toMatchObject({ code: '42P04' });
      });
      expect(await hasAuditEvents({ ...db.connection, database: name })).toBe(true);
      expect(await hasAuditEvents({ ...db.connection, database: other })).toBe(true);
    } finally {
      await dropClones(db.connection, prefix);
    }
  });
});
