import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { freshDatabase } from '../support/fresh-database.ts';
import { gooseDirectory, gooseFile } from '../migrate/goose/goose-directory.ts';
import { cli } from '../support/cli.ts';



/** audit_events as the DS directory creates it: the table and its partitions in one StatementBegin block. */
const AUDIT = gooseFile(
  `-- +goose StatementBegin
CREATE TABLE audit_events (id bigserial, event_date date NOT NULL, PRIMARY KEY (id, event_date)) PARTITION BY RANGE (event_date);
CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;
CREATE TABLE audit_events_2026_03 PARTITION OF audit_events FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');
-- +goose StatementEnd`,
  'DROP TABLE audit_events;',
);
const NOTES = gooseFile('CREATE TABLE notes (id int);', 'DROP TABLE notes;');
const TAGS = gooseFile('CREATE TABLE tags (id int);', 'DROP TABLE tags;');

describe('e2e-migrations CLI on a goose directory', () => {
  test('--tables audit_events applies the directory and verifies the table', async () => {
    await using db = await freshDatabase('cli_goose');
    await using dir = await gooseDirectory({ '001_schema.sql': AUDIT, '002_notes.sql': NOTES });
    const apply = await cli('apply', '--url', db.url, '--migrations', dir.path, '--tables', 'audit_events', '--json');
    expect(apply.code, apply.stderr).toBe(0);
    expect(JSON.parse(apply.stdout)).toMatchObject({ ok: true, applied: ['001_schema', '002_notes'], tables: ['audit_events', 'notes'] });
    expect(apply.stderr).toMatch(/verify\s+ok\s+\d+ ms\s+2 tables match/);

    const unknown = await cli('apply', '--url', db.url, '--migrations', dir.path, '--tables', 'audit_event');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown table "audit_event" in "tables": the goose migrations in');
    expect(unknown.stderr).toContain('after 002_notes.sql the database holds: audit_events, notes');
  });

  test('--allow-missing applies a version below the newest applied one; without it the run stops naming it', async () => {
    await using db = await freshDatabase('cli_goose');
    await using gap = await gooseDirectory({ '001_schema.sql': AUDIT, '003_notes.sql': NOTES });
    expect((await cli('apply', '--url', db.url, '--migrations', gap.path)).code).toBe(0);
    await using filled = await gooseDirectory({ '001_schema.sql': AUDIT, '002_tags.sql': TAGS, '003_notes.sql': NOTES });
    const refused = await cli('apply', '--url', db.url, '--migrations', filled.path);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('goose migration 002_tags.sql (version 2) is not applied, but version 3 (003_notes.sql) is');
    const allowed = await cli('apply', '--url', db.url, '--migrations', filled.path, '--allow-missing', '--json');
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ applied: ['002_tags'] });
  });

  test('after a rename, status shows the new name applied and down --to takes it', async () => {
    await using db = await freshDatabase('cli_goose');
    await using before = await gooseDirectory({ '001_schema.sql': AUDIT, '002_notes.sql': NOTES, '003_tags.sql': TAGS });
    expect((await cli('apply', '--url', db.url, '--migrations', before.path)).code).toBe(0);
    await using after = await gooseDirectory({ '001_audit_schema.sql': AUDIT, '002_notes.sql': NOTES, '003_tags.sql': TAGS });
    const status = await cli('status', '--url', db.url, '--migrations', after.path, '--json');
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).migrations.map((m: { name: string; applied: boolean }) => [m.name, m.applied])).toEqual([
      ['001_audit_schema', true],
      ['002_notes', true],
      ['003_tags', true],
    ]);
    const down = await cli('down', '--url', db.url, '--migrations', after.path, '--to', '001_audit_schema');
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toBe('rolled back 2: 003_tags, 002_notes\n');
  });
});
