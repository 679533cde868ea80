import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** The repo's copy of the schema description (kept identical to ../shared/schema). */
export const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'schema');

export function fixtureText(file: string): string {
  return readFileSync(join(FIXTURES_DIR, file), 'utf8');
}

export function fixtureLines(file: string): string[] {
  return fixtureText(file)
    .split('\n')
    .filter((line) => line !== '');
}

// Same relation filter as catalog.sql, so both files describe the same set of objects.
const NAMES_SQL = `
WITH rels AS (
  SELECT c.oid, c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
    AND c.relname !~ '_[0-9]{4}_[0-9]{2}($|_)'
    AND c.relname !~ '^(kysely_|goose_)' AND c.relname !~ 'migration'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
)
SELECT 'constraint-name ' || r.relname || ' ' || co.conname AS l
FROM rels r JOIN pg_constraint co ON co.conrelid = r.oid AND co.contype <> 'n'
UNION ALL
SELECT 'index-name ' || r.relname || ' ' || ic.relname
FROM rels r JOIN pg_index i ON i.indrelid = r.oid JOIN pg_class ic ON ic.oid = i.indexrelid
UNION ALL
SELECT 'trigger-name ' || r.relname || ' ' || t.tgname || ' -> ' || p.proname
FROM rels r JOIN pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal JOIN pg_proc p ON p.oid = t.tgfoid`;

async function queryLines(url: string, text: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<Record<string, string>>(text);
    // Sorted here, by code point, so the order never depends on the database's collation.
    return result.rows.map((row) => String(Object.values(row)[0])).sort(byCodePoint);
  } finally {
    await client.end();
  }
}

/** The lines catalog.sql prints for the database at `url`. */
export function catalogLines(url: string): Promise<string[]> {
  return queryLines(url, fixtureText('catalog.sql'));
}

/** Constraint, index and trigger names in the format of ds-v1.names.txt. */
export function nameLines(url: string): Promise<string[]> {
  return queryLines(url, NAMES_SQL);
}

export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface LineDiff {
  readonly missing: string[];
  readonly extra: string[];
}

/** Multiset difference: a line expected twice must be there twice. */
export function diffLines(expected: readonly string[], actual: readonly string[]): LineDiff {
  const counts = new Map<string, number>();
  for (const line of actual) counts.set(line, (counts.get(line) ?? 0) + 1);
  const missing: string[] = [];
  for (const line of expected) {
    const n = counts.get(line) ?? 0;
    if (n === 0) missing.push(line);
    else counts.set(line, n - 1);
  }
  const extra = [...counts].flatMap(([line, n]) => Array<string>(n).fill(line));
  return { missing: missing.sort(byCodePoint), extra: extra.sort(byCodePoint) };
}

/** A diff a person can read in a failed test: what the schema lacks, then what it has too much of. */
export function formatDiff(diff: LineDiff, label: string): string {
  if (diff.missing.length === 0 && diff.extra.length === 0) return `${label}: identical`;
  return [
    `${label}: ${diff.missing.length} missing, ${diff.extra.length} extra`,
    ...diff.missing.map((line) => `- ${line}`),
    ...diff.extra.map((line) => `+ ${line}`),
  ].join('\n');
}
