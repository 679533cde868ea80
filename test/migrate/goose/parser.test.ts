import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { MigrationError } from '../../../src/errors/errors.ts';
import { GOOSE_FILE_NAME, parseGooseFile, type GooseFile } from '../../../src/migrate/goose/goose-parser.ts';

/**
 * The goose parser must read a file exactly as goose does (github.com/pressly/goose,
 * internal/sqlparser). Each test here reproduces one case of goose's own parser tests with
 * our own SQL, named after it in brackets; the last test counts them. Tests after those pin
 * down behaviour read from goose's parser that its tests do not cover.
 *
 * Golden files (`NN.up.sql`, `NN.down.sql`) hold each statement byte for byte, without a
 * final newline, as goose produced them from the `input.sql` beside them.
 */

const fixtures = join(import.meta.dirname, 'fixtures');
const read = (...path: string[]) => readFileSync(join(fixtures, ...path), 'utf8');

/** The environment the ENVSUB fixtures were made with; `E2E_UNSET_FOR_FIXTURE` stays unset. */
const FIXTURE_ENV = { E2E_REGION: 'eu_west_', E2E_TENANT: 'acme', E2E_SET_BUT_EMPTY: '' };

/** goose's parser test cases (parser_test.go, parse_test.go, testdata/), by test and case. */
const GOOSE_CASES = [
  ...[1, 2, 3, 4, 5, 6].map((n) => `TestSemicolons/${n}`),
  ...['multilineSQL', 'emptySQL', 'emptySQL2', 'functxt', 'mysqlChangeDelimiter', 'copyFromStdin', 'plpgsqlSyntax', 'plpgsqlSyntaxMixedStatements'].map(
    (name) => `TestSplitStatements/${name}`,
  ),
  ...['a', 'b', 'c', 'd'].map((name) => `TestInvalidUp/${name}.sql`),
  ...['00001_create_users_table', '00002_rename_root', '00003_no_transaction'].map((name) => `TestUseTransactions/${name}.sql`),
  ...['statementBeginNoStatementEnd', 'unfinishedSQL', 'noUpDownAnnotations', 'multiUpDown', 'downFirst'].map((name) => `TestParsingErrors/${name}`),
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `TestValidUp/test0${n}`),
  ...[1, 2, 3].map((n) => `TestEnvsub/test0${n}`),
  'TestEnvsubError',
  ...[
    'Up',
    'Down',
    'StmtBegin',
    'NoTransact',
    'Unsupported',
    'Empty',
    'statement with spaces and Uppercase',
    'statement with leading whitespace - error',
    'statement with leading \\t - error',
    'multiple +goose annotations - error',
  ].map((name) => `Test_extractAnnotation/${name}`),
  ...['file_not_exist', 'empty_file', 'all_statements'].map((name) => `TestParseAllFromFS/${name}`),
];

/** Reading files is goose-source's job, not the parser's. */
const NOT_APPLICABLE = ['TestParseAllFromFS/file_not_exist'];

const covered = new Set<string>();

function cover(id: string): void {
  if (!GOOSE_CASES.includes(id)) throw new Error(`unknown goose case ${id}`);
  covered.add(id);
}

/** A test that reproduces goose's case `id`. */
function gooseCase(id: string, title: string, body: () => void): void {
  cover(id);
  test(`${title} [goose ${id}]`, body);
}

/** Rows for `test.each` whose first column names the goose case each reproduces. */
function gooseCases<Row extends readonly [string, ...unknown[]]>(rows: readonly Row[]): Row[] {
  for (const [id] of rows) cover(id);
  return [...rows];
}

const parse = (text: string, env: NodeJS.ProcessEnv = {}): GooseFile => parseGooseFile('001_case.sql', text, { env });

/** The MigrationError parsing `text` throws. */
function parseError(text: string, env: NodeJS.ProcessEnv = {}): MigrationError {
  try {
    parse(text, env);
  } catch (error) {
    expect(error).toBeInstanceOf(MigrationError);
    return error as MigrationError;
  }
  throw new Error('expected a MigrationError, parsing succeeded');
}

/** Compares a `fixtures/valid/<name>` input with its golden statements. */
function expectGolden(name: string, counts: { up: number; down: number }): GooseFile {
  const file = parseGooseFile(`001_${name}.sql`, read('valid', name, 'input.sql'), { env: FIXTURE_ENV });
  const golden = (direction: 'up' | 'down') =>
    readdirSync(join(fixtures, 'valid', name))
      .filter((entry) => entry.endsWith(`.${direction}.sql`))
      .sort()
      .map((entry) => read('valid', name, entry));
  expect(golden('up')).toHaveLength(counts.up);
  expect(golden('down')).toHaveLength(counts.down);
  expect(file.up).toEqual(golden('up'));
  expect(file.down).toEqual(golden('down'));
  return file;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('goose testdata/valid-up: statements kept byte for byte', () => {
  gooseCase('TestValidUp/test01', 'annotations in any letter case; comments and blank lines inside a block are kept', () => {
    expectGolden('mixed-case-annotations', { up: 3, down: 0 });
  });

  gooseCase('TestValidUp/test02', 'a StatementBegin block holding several statements is one statement', () => {
    expectGolden('block-of-several-statements', { up: 1, down: 0 });
  });

  gooseCase('TestValidUp/test03', 'a quoted function body keeps its comment-looking and white-space lines, and the comments after it', () => {
    const file = expectGolden('quoted-body-comments', { up: 1, down: 0 });
    expect(file.up[0]).toMatch(/-- also kept$/);
  });

  gooseCase('TestValidUp/test04', 'key literals whose lines start with "-----" survive, inside a block and in a plain statement', () => {
    const file = expectGolden('key-literals', { up: 3, down: 1 });
    expect(file.up[2]).toContain('\n-----END OPENSSH PRIVATE KEY-----\n');
  });

  gooseCase('TestValidUp/test05', 'comments inside a statement are kept, comments between statements are dropped', () => {
    expectGolden('comments-inside-statements', { up: 2, down: 0 });
  });

  gooseCase('TestValidUp/test06', 'blank lines inside literals survive; a block drops the comments before its first line only', () => {
    const file = expectGolden('blank-lines-in-literals', { up: 5, down: 1 });
    expect(file.up[4]).toContain("'\nblank lines inside a literal\n\nare part of the value\n\nand must survive.\n'");
    expect(file.up[3]).toMatch(/^CREATE FUNCTION/);
  });

  gooseCase('TestValidUp/test07', 'white space before "-- +goose Up" is ignored', () => {
    expectGolden('whitespace-before-up', { up: 1, down: 1 });
  });

  gooseCase('TestValidUp/test08', 'MySQL back-quotes and /*! */ version comments end at their ";"', () => {
    expectGolden('mysql-version-comments', { up: 4, down: 0 });
  });

  gooseCase('TestValidUp/test09', 'inside a block the last line needs no ";"', () => {
    expectGolden('block-without-semicolon', { up: 1, down: 1 });
  });
});

describe('goose testdata/envsub: -- +goose ENVSUB ON / OFF', () => {
  gooseCase('TestEnvsub/test01', 'ENVSUB ON before Up substitutes in both sections', () => {
    const file = expectGolden('envsub-whole-file', { up: 4, down: 1 });
    expect(file.up[0]).toMatch(/^CREATE TABLE eu_west_events \(/);
  });

  gooseCase('TestEnvsub/test02', 'ENVSUB switches on and off, also inside a block; unset gives "", "-" and ":-" defaults, "\\$" escapes', () => {
    expectGolden('envsub-on-and-off', { up: 3, down: 0 });
  });

  gooseCase('TestEnvsub/test03', 'without ENVSUB ON nothing is substituted', () => {
    expectGolden('envsub-off-by-default', { up: 1, down: 0 });
  });

  gooseCase('TestEnvsubError', 'an unset ${VAR?message} is an error naming the variable, the file and the line', () => {
    const error = parseError(['-- +goose ENVSUB ON', '-- +goose Up', 'CREATE TABLE t (', '  ${E2E_COLUMN?set E2E_COLUMN to the column name} text', ');'].join('\n'));
    expect(error.message).toBe('goose file 001_case.sql, line 4: ENVSUB: $E2E_COLUMN: set E2E_COLUMN to the column name');
  });
});

describe('goose testdata/invalid/up: unterminated statements', () => {
  test.each(gooseCases([
    ['TestInvalidUp/a.sql', '001_unterminated-after-statement.sql', 3, 'before "-- +goose Down" on line 4'],
    ['TestInvalidUp/b.sql', '002_unterminated-only-statement.sql', 2, 'before "-- +goose Down" on line 3'],
    ['TestInvalidUp/c.sql', '003_unterminated-empty-down.sql', 2, 'before "-- +goose Down" on line 3'],
    ['TestInvalidUp/d.sql', '004_unterminated-at-eof.sql', 2, 'at the end of the file'],
  ] as const))('[goose %s] %s is refused at the line the statement starts', (_id, name, line, where) => {
    expect(() => parseGooseFile(name, read('invalid', name))).toThrow(
      new RegExp(`^goose file ${name}, line ${line}: statement not terminated by ";" ${where.replace(/[+"]/g, '\\$&')} \\(`),
    );
  });
});

describe('goose testdata/valid-txn: transactions', () => {
  test.each(gooseCases([
    ['TestUseTransactions/00001_create_users_table.sql', '001_create_members.sql', true, 2, 1],
    ['TestUseTransactions/00002_rename_root.sql', '002_rename_admin.sql', true, 1, 1],
    ['TestUseTransactions/00003_no_transaction.sql', '003_index_concurrently.sql', false, 1, 1],
  ] as const))('[goose %s] %s is transactional: %s', (_id, name, transactional, up, down) => {
    const file = parseGooseFile(name, read('txn', name));
    expect(file.transactional).toBe(transactional);
    expect([file.up.length, file.down.length]).toEqual([up, down]);
  });
});

describe('goose parser_test.go: TestSemicolons (through the parser)', () => {
  // A line ends a statement when its last word before a word starting with "--" ends with ";".
  test.each(gooseCases([
    ['TestSemicolons/1', 'SELECT 1;', true],
    ['TestSemicolons/2', 'SELECT 1; -- note', true],
    ['TestSemicolons/3', 'SELECT 1   ; -- note', true],
    ['TestSemicolons/4', 'SELECT 1 -- note', false],
    ['TestSemicolons/5', 'SELECT 1 -- note ;', false],
    ['TestSemicolons/6', 'SELECT 1 " ; " -- note', false],
  ] as const))('[goose %s] %j ends the statement: %s', (_id, line, ends) => {
    const file = parse(`-- +goose Up\n${line}\nSELECT 2;\n`);
    expect(file.up).toEqual(ends ? [line, 'SELECT 2;'] : [`${line}\nSELECT 2;`]);
  });
});

describe('goose parser_test.go: TestSplitStatements', () => {
  const counts = (file: GooseFile) => [file.up.length, file.down.length];

  gooseCase('TestSplitStatements/multilineSQL', 'a statement ends at its ";" line; comments after ";" stay; two statements on a line are one', () => {
    const file = parse(
      [
        '-- +goose Up',
        'CREATE TABLE invoices (',
        '\t\tid int NOT NULL,',
        '\t\tPRIMARY KEY(id)',
        ');                  -- one',
        '',
        '-- between',
        'SELECT 2;           -- two',
        'SELECT 3; SELECT 3; -- three',
        'SELECT 4;           -- four',
        '',
        '-- +goose Down',
        '-- between',
        'DROP TABLE invoices;    -- one',
        '',
      ].join('\n'),
    );
    expect(counts(file)).toEqual([4, 1]);
    expect(file.up[2]).toBe('SELECT 3; SELECT 3; -- three');
    expect(file.down).toEqual(['DROP TABLE invoices;    -- one']);
  });

  gooseCase('TestSplitStatements/emptySQL', 'an Up section with only a comment and no final newline has no statement', () => {
    expect(counts(parse('-- +goose Up\n-- nothing to do yet'))).toEqual([0, 0]);
  });

  gooseCase('TestSplitStatements/emptySQL2', 'blank lines and comments around empty Up and Down sections', () => {
    expect(counts(parse('\n\n-- header\n-- +goose Up\n\n-- later\n-- +goose Down\n\n'))).toEqual([0, 0]);
  });

  gooseCase('TestSplitStatements/functxt', 'a PL/pgSQL function with ";" inside a block is one statement', () => {
    const file = parse(
      [
        '-- +goose Up',
        'CREATE TABLE IF NOT EXISTS readings (id bigserial PRIMARY KEY, taken_at timestamptz NOT NULL);',
        '',
        '-- +goose StatementBegin',
        'CREATE OR REPLACE FUNCTION readings_partition(DATE, DATE) RETURNS void AS $$',
        'DECLARE',
        '\tq text;',
        'BEGIN',
        "\tFOR q IN SELECT 'CREATE TABLE IF NOT EXISTS readings_' || TO_CHAR(d, 'YYYY_MM') || ' () INHERITS (readings);'",
        "\t\tFROM generate_series($1, $2, '1 month') AS d",
        '\tLOOP',
        '\t\tEXECUTE q;',
        '\tEND LOOP;  -- loop',
        'END;         -- function',
        '$$',
        'language plpgsql;',
        '-- +goose StatementEnd',
        '',
        '-- +goose Down',
        'drop function readings_partition(DATE, DATE);',
        'drop TABLE readings;',
      ].join('\n'),
    );
    expect(counts(file)).toEqual([2, 2]);
    expect(file.up[1]).toMatch(/^CREATE OR REPLACE FUNCTION[\s\S]*\nlanguage plpgsql;$/);
  });

  gooseCase('TestSplitStatements/mysqlChangeDelimiter', 'MySQL DELIMITER changes as blocks', () => {
    const file = parse(
      [
        '',
        '-- +goose Up',
        '-- +goose StatementBegin',
        'DELIMITER | ',
        '-- +goose StatementEnd',
        '',
        '-- +goose StatementBegin',
        'CREATE FUNCTION shout( s CHAR(255) ) RETURNS CHAR(255) DETERMINISTIC',
        'BEGIN ',
        '  RETURN UPPER(s); ',
        'END | ',
        '-- +goose StatementEnd',
        '',
        '-- +goose StatementBegin',
        'DELIMITER ; ',
        '-- +goose StatementEnd',
        '',
        'select shout("hey") from dual;',
        '-- +goose Down',
      ].join('\n'),
    );
    expect(counts(file)).toEqual([4, 0]);
    expect(file.up[0]).toBe('DELIMITER |');
  });

  gooseCase('TestSplitStatements/copyFromStdin', 'COPY … FROM stdin with its data rows in a block, tabs kept', () => {
    const file = parse(
      ['', '-- +goose Up', '-- +goose StatementBegin', 'COPY public.colours (id, name) FROM stdin;', '1\tred', '2\tgreen', '3\tblue', '\\.', '-- +goose StatementEnd', ''].join('\n'),
    );
    expect(counts(file)).toEqual([1, 0]);
    expect(file.up[0]).toBe('COPY public.colours (id, name) FROM stdin;\n1\tred\n2\tgreen\n3\tblue\n\\.');
  });

  /** A trigger function in a StatementBegin block, as both plpgsql cases of goose's suite have it. */
  const STAMP_FUNCTION_BLOCK = [
    '-- +goose StatementBegin',
    'CREATE OR REPLACE FUNCTION stamp() RETURNS TRIGGER AS $$',
    'BEGIN',
    '    NEW.changed_at = now();',
    '    RETURN NEW;',
    'END;',
    "$$ language 'plpgsql';",
    '-- +goose StatementEnd',
  ];

  gooseCase('TestSplitStatements/plpgsqlSyntax', 'blocks back to back in both sections, Down ones without ";"', () => {
    const file = parse(
      [
        '',
        '-- +goose Up',
        ...STAMP_FUNCTION_BLOCK,
        '-- +goose StatementBegin',
        'CREATE TRIGGER stamp_items BEFORE UPDATE ON items FOR EACH ROW EXECUTE PROCEDURE stamp();',
        '-- +goose StatementEnd',
        '',
        '-- +goose Down',
        '-- +goose StatementBegin',
        'DROP TRIGGER stamp_items',
        '-- +goose StatementEnd',
        '-- +goose StatementBegin',
        'DROP FUNCTION stamp()',
        '-- +goose StatementEnd',
      ].join('\n'),
    );
    expect(counts(file)).toEqual([2, 2]);
    expect(file.down).toEqual(['DROP TRIGGER stamp_items', 'DROP FUNCTION stamp()']);
  });

  gooseCase('TestSplitStatements/plpgsqlSyntaxMixedStatements', 'a block followed by a multi-line plain statement', () => {
    const file = parse(
      [
        '',
        '-- +goose Up',
        ...STAMP_FUNCTION_BLOCK,
        '',
        'CREATE TRIGGER stamp_items',
        'BEFORE UPDATE',
        'ON items ',
        'FOR EACH ROW EXECUTE PROCEDURE  stamp();',
        '',
        '-- +goose Down',
        'DROP TRIGGER stamp_items;',
        'DROP FUNCTION stamp();',
      ].join('\n'),
    );
    expect(counts(file)).toEqual([2, 2]);
    expect(file.up[1]).toBe('CREATE TRIGGER stamp_items\nBEFORE UPDATE\nON items \nFOR EACH ROW EXECUTE PROCEDURE  stamp();');
  });
});

describe('goose parser_test.go: TestParsingErrors', () => {
  gooseCase('TestParsingErrors/statementBeginNoStatementEnd', 'a StatementBegin never closed before Down', () => {
    const error = parseError(
      ['-- +goose Up', 'CREATE TABLE t (id int);', '', '-- +goose StatementBegin', 'CREATE FUNCTION f() RETURNS int AS $$', 'BEGIN RETURN 1; END;', '$$ LANGUAGE plpgsql;', '', '-- +goose Down', 'DROP FUNCTION f();'].join('\n'),
    );
    expect(error.message).toBe('goose file 001_case.sql, line 4: StatementBegin is never closed by "-- +goose StatementEnd" ("-- +goose Down" on line 9 comes first)');
  });

  gooseCase('TestParsingErrors/unfinishedSQL', 'a statement without ";" before Down', () => {
    expect(parseError('\n-- +goose Up\nALTER TABLE t\n\n-- +goose Down\n').message).toMatch(
      /^goose file 001_case\.sql, line 3: statement not terminated by ";" before "-- \+goose Down" on line 5/,
    );
  });

  gooseCase('TestParsingErrors/noUpDownAnnotations', 'SQL and no annotation at all', () => {
    expect(parseError('\nCREATE TABLE t (\n  id int\n);\n').message).toBe('goose file 001_case.sql, line 2: SQL before the "-- +goose Up" annotation');
  });

  gooseCase('TestParsingErrors/multiUpDown', 'an Up section after a Down section', () => {
    expect(parseError('-- +goose Up\nCREATE TABLE a (id int);\n\n-- +goose Down\nDROP TABLE a;\n\n-- +goose Up\nCREATE TABLE b (id int);\n').message).toBe(
      'goose file 001_case.sql, line 7: a second "-- +goose Up" annotation (the first is on line 1)',
    );
  });

  gooseCase('TestParsingErrors/downFirst', 'a Down section first', () => {
    expect(parseError('-- +goose Down\nDROP TABLE a;\n').message).toBe('goose file 001_case.sql, line 1: no "-- +goose Up" annotation before "-- +goose Down"');
  });
});

describe('goose parser_test.go: Test_extractAnnotation (through the parser)', () => {
  gooseCase('Test_extractAnnotation/Up', '"-- +goose Up"', () => {
    expect(parse('-- +goose Up\nSELECT 1;').up).toEqual(['SELECT 1;']);
  });

  gooseCase('Test_extractAnnotation/Down', '"-- +goose Down"', () => {
    expect(parse('-- +goose Up\n-- +goose Down\nSELECT 1;').down).toEqual(['SELECT 1;']);
  });

  gooseCase('Test_extractAnnotation/StmtBegin', '"-- +goose StatementBegin"', () => {
    expect(parse('-- +goose Up\n-- +goose StatementBegin\nSELECT 1\n-- +goose StatementEnd').up).toEqual(['SELECT 1']);
  });

  gooseCase('Test_extractAnnotation/NoTransact', '"-- +goose NO TRANSACTION"', () => {
    expect(parse('-- +goose NO TRANSACTION\n-- +goose Up\n').transactional).toBe(false);
  });

  gooseCase('Test_extractAnnotation/Unsupported', 'an unknown annotation is an error', () => {
    expect(parseError('-- +goose Up\n-- +goose unsupported\n').message).toMatch(/^goose file 001_case\.sql, line 2: unsupported annotation "-- \+goose unsupported" \(goose knows/);
  });

  gooseCase('Test_extractAnnotation/Empty', 'a bare "-- +goose" is an error', () => {
    expect(parseError('-- +goose Up\n-- +goose\n').message).toMatch(/^goose file 001_case\.sql, line 2: empty annotation "-- \+goose"/);
  });

  gooseCase('Test_extractAnnotation/statement with spaces and Uppercase', 'extra spaces, a trailing tab and any letter case are accepted', () => {
    expect(parse('-- +goose   UP \t\nSELECT 1;').up).toEqual(['SELECT 1;']);
  });

  gooseCase('Test_extractAnnotation/statement with leading whitespace - error', 'an annotation indented by a space is an error', () => {
    expect(parseError(' -- +goose   UP \t\n').message).toMatch(/^goose file 001_case\.sql, line 1: annotation " -- \+goose   UP \\t" must start at the beginning of the line/);
  });

  gooseCase('Test_extractAnnotation/statement with leading \\t - error', 'an annotation indented by a tab is an error', () => {
    expect(parseError('-- +goose Up\n\t-- +goose StatementBegin\n').message).toMatch(/^goose file 001_case\.sql, line 2: annotation .* must start at the beginning of the line/);
  });

  gooseCase('Test_extractAnnotation/multiple +goose annotations - error', '"+goose" twice on a line is an error', () => {
    expect(parseError('-- +goose +goose Up\n').message).toBe('goose file 001_case.sql, line 1: annotation "-- +goose +goose Up" holds "+goose" more than once');
  });
});

describe('goose parse_test.go: TestParseAllFromFS', () => {
  gooseCase('TestParseAllFromFS/empty_file', 'an empty file is refused: goose requires an Up annotation', () => {
    expect(parseError('').message).toBe('goose file 001_case.sql, line 1: no "-- +goose Up" annotation (goose requires one, even for an empty migration)');
  });

  gooseCase('TestParseAllFromFS/all_statements', 'both sections and the transaction flag from one parse', () => {
    const summary = (text: string) => {
      const file = parse(text);
      return [file.up.length, file.down.length, file.transactional];
    };
    expect(summary('\n-- +goose Up\n')).toEqual([0, 0, true]);
    expect(summary('\n-- +goose Up\n-- +goose Down\n')).toEqual([0, 0, true]);
    expect(summary('\n-- +goose Up\nCREATE TABLE a (id int);\nCREATE TABLE b (id int);\n\n-- +goose Down\nDROP TABLE b;\n')).toEqual([2, 1, true]);
    expect(summary('\n-- +goose NO TRANSACTION\n-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n')).toEqual([1, 1, false]);
  });
});

describe("goose's parser, beyond its tests", () => {
  test('CRLF files give LF statements; other white space inside lines is kept', () => {
    expect(parse('-- +goose Up\r\nCREATE TABLE t (\r\n  id int \r\n);\r\n').up).toEqual(['CREATE TABLE t (\n  id int \n);']);
  });

  test('each statement records the line its text starts on', () => {
    const file = parse(['-- +goose Up', '', 'SELECT 1;', '-- note', 'SELECT', '  2;', '-- +goose StatementBegin', '', '-- dropped', 'SELECT 3', '-- +goose StatementEnd', '-- +goose Down', 'SELECT 4;'].join('\n'));
    expect(file.upLines).toEqual([3, 5, 10]);
    expect(file.downLines).toEqual([13]);
  });

  test('comments and blank lines may precede Up; SQL may not, and a byte order mark counts as SQL', () => {
    expect(parse('\n  \n-- header\n\t-- indented\n-- +goose Up\n').up).toEqual([]);
    expect(parseError('\ufeff-- +goose Up\nSELECT 1;\n').message).toBe(
      'goose file 001_case.sql, line 1: SQL before the "-- +goose Up" annotation (the file starts with a byte order mark, which goose reads as SQL: save it without one)',
    );
  });

  test.each([
    ['a second Down', '-- +goose Up\n-- +goose Down\n-- +goose Down\n', 'line 3: a second "-- +goose Down" annotation (the first is on line 2)'],
    ['StatementBegin before Up', '-- +goose StatementBegin\n', 'line 1: StatementBegin before the "-- +goose Up" annotation'],
    ['a nested StatementBegin', '-- +goose Up\n-- +goose StatementBegin\n-- +goose StatementBegin\n', 'line 3: StatementBegin inside the block opened on line 2'],
    ['StatementEnd without StatementBegin', '-- +goose Up\nSELECT 1;\n-- +goose StatementEnd\n', 'line 3: StatementEnd without a StatementBegin'],
    ['a block open at the end', '-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n', 'line 2: StatementBegin is never closed by "-- +goose StatementEnd"'],
    ['a comment after the annotation', '-- +goose Up -- creates t\n', 'line 1: unsupported annotation "-- +goose Up -- creates t"'],
    ['a comment that mentions +goose', '-- +goose Up\n-- see the +goose docs\n', 'line 2: unsupported annotation "-- see the +goose docs"'],
    ['an annotation line inside a block', '-- +goose Up\n-- +goose StatementBegin\n-- +goose Down\n', 'line 2: StatementBegin is never closed'],
  ])('%s is an error', (_what, text, message) => {
    expect(parseError(text).message).toContain(`goose file 001_case.sql, ${message}`);
  });

  test('"+goose" must be lower case to make an annotation; "--+goose" and the long s "ſ" fold as in Go', () => {
    expect(() => parse('-- +GOOSE Up\n')).toThrow('no "-- +goose Up" annotation');
    expect(parse('--+goose up\n-- +goose ſtatementBegin\nSELECT 1\n-- +goose statementend\n').up).toEqual(['SELECT 1']);
  });

  test('NO TRANSACTION counts anywhere: in the Down section or inside a block', () => {
    expect(parse('-- +goose Up\n-- +goose Down\n-- +goose NO TRANSACTION\n').transactional).toBe(false);
    expect(parse('-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n-- +goose NO TRANSACTION\n-- +goose StatementEnd\n').transactional).toBe(false);
  });

  test('";" glued to a comment does not end a statement', () => {
    expect(parse('-- +goose Up\nSELECT 1;-- glued\nSELECT 2;\n').up).toEqual(['SELECT 1;-- glued\nSELECT 2;']);
  });

  test('StatementBegin after an unterminated statement continues it', () => {
    expect(parse('-- +goose Up\nSELECT\n-- +goose StatementBegin\n1\n-- +goose StatementEnd\n').up).toEqual(['SELECT\n1']);
  });

  test('a line of spaces between statements begins the next one, so a comment after it is kept', () => {
    expect(parse('-- +goose Up\nSELECT 1;\n   \n-- kept\nSELECT 2;\n').up).toEqual(['SELECT 1;', '-- kept\nSELECT 2;']);
    expect(parseError('-- +goose Up\nSELECT 1;\n   \n-- trailing\n-- +goose Down\n').message).toBe(
      'goose file 001_case.sql, line 4: statement not terminated by ";" before "-- +goose Down" on line 5 ' +
        '(the line of white space on line 3 begins a statement in goose, so the comments after it are its text; make that line empty)',
    );
  });

  test('an empty StatementBegin block yields an empty statement in place of the next SQL line (goose quirk)', () => {
    const file = parse('-- +goose Up\n-- +goose StatementBegin\n-- only a comment\n-- +goose StatementEnd\n\n-- skipped\nSELECT 1;\nSELECT 2;\n');
    expect(file.up).toEqual(['', 'SELECT 2;']);
    expect(file.upLines).toEqual([7, 8]);
  });

  test("a line that does not fit goose's 4 MiB scanner buffer with its newline is refused", () => {
    // `SELECT '…';` is 10 bytes around the x's.
    const line = (bytes: number) => `SELECT '${'x'.repeat(bytes - 10)}';`;
    const limit = 4 * 1024 * 1024;
    expect(parse(`-- +goose Up\n${line(limit - 1)}\n`).up).toHaveLength(1);
    expect(parseError(`-- +goose Up\n${line(limit)}\n`).message).toBe("goose file 001_case.sql, line 2: line is longer than goose's limit of 4194304 bytes");
  });

  test('errors carry the file and migration name', () => {
    const error = parseError('-- +goose Down\n');
    expect(error.details).toEqual({ file: '001_case.sql', migration: '001_case' });
  });
});

describe('ENVSUB forms (github.com/mfridman/interpolate v0.0.2, as goose uses it)', () => {
  const env = { NAME: 'orders', EMPTY: '', WIDE: 'héllo', NESTED: '${NAME}' };
  const substitute = (line: string) => parse(`-- +goose ENVSUB ON\n-- +goose Up\n${line}\n`, env).up[0];

  test.each([
    ['$NAME', 'orders'],
    ['${NAME}', 'orders'],
    ['${NAME}_v2 $NAME_v2', 'orders_v2 '],
    ['${UNSET}', ''],
    ['${UNSET:-fallback} ${EMPTY:-fallback} ${NAME:-fallback}', 'fallback fallback orders'],
    ['${UNSET-fallback} ${EMPTY-fallback}', 'fallback '],
    ['${UNSET:-${ALSO_UNSET:-$NAME}}', 'orders'],
    ['${NAME:-${UNSET?not needed}}', 'orders'],
    ['${EMPTY?not an error: only unset is}', ''],
    ['${NAME:1} ${NAME:1:3} ${NAME: -3} ${NAME:2:-2} ${NAME:99}', 'rders rde ers de '],
    ['${WIDE:0:2}', 'h\ufffd'],
    ['$NESTED', '${NAME}'],
    ['$$NAME \\$NAME \\\\ $(date)', '$NAME $NAME \\\\ $(date)'],
  ])('%s gives %j', (form, expected) => {
    expect(substitute(`SELECT '${form}';`)).toBe(`SELECT '${expected}';`);
  });

  test.each([
    ['${UNSET?}', '$UNSET: not set'],
    ['${UNSET?set UNSET first}', '$UNSET: set UNSET first'],
    ['$1', '"$" at column 8 must be followed by a variable name starting with a letter, found "1"'],
    ['${_X}', '"${" at column 8 must be followed by a variable name starting with a letter, found "_"'],
    ['$ ', '"$" at column 8 must be followed by a variable name starting with a letter, found " "'],
    ['${NAME:?x}', 'offset "?x" in "${NAME:…}" is not a whole number ("${NAME:?…}" is not supported by goose; "${NAME?message}" is)'],
    ['${NAME:1:x}', 'length "x" in "${NAME:…}" is not a whole number'],
    ['${NAME+x}', '"+" after "${NAME" at column 8 is not an operator goose knows'],
    ['${NAME:-x', '"${NAME" at column 8 is not closed by "}" (found the end of the line)'],
  ])('%s is an error: %s', (form, reason) => {
    expect(parseError(`-- +goose ENVSUB ON\n-- +goose Up\nSELECT ${form}\n`, env).message).toContain(`goose file 001_case.sql, line 3: ENVSUB: ${reason}`);
  });

  test('"$$" becomes "$" under ENVSUB, so dollar-quoted bodies need ENVSUB OFF around them; a "$" ending the line stays', () => {
    expect(parse('-- +goose ENVSUB ON\n-- +goose Up\nDO $$ BEGIN NULL; END $$;\n', env).up).toEqual(['DO $ BEGIN NULL; END $;']);
    expect(parse('-- +goose ENVSUB ON\n-- +goose Up\nSELECT 1; -- costs 5$\n', env).up).toEqual(['SELECT 1; -- costs 5$']);
  });

  test('comment lines between statements are not substituted; comments inside one are', () => {
    expect(parse('-- +goose ENVSUB ON\n-- +goose Up\n-- costs $1\nSELECT 1;\n', env).up).toEqual(['SELECT 1;']);
    expect(parseError('-- +goose ENVSUB ON\n-- +goose Up\nSELECT\n-- costs $1\n1;\n', env).message).toContain('line 4: ENVSUB:');
  });

  test('variables come from process.env unless options.env is given', () => {
    vi.stubEnv('E2E_PARSER_TEST_TABLE', 'from_process');
    const text = '-- +goose ENVSUB ON\n-- +goose Up\nCREATE TABLE ${E2E_PARSER_TEST_TABLE} ();\n';
    expect(parseGooseFile('001_env.sql', text).up).toEqual(['CREATE TABLE from_process ();']);
    expect(parseGooseFile('001_env.sql', text, { env: { E2E_PARSER_TEST_TABLE: 'given' } }).up).toEqual(['CREATE TABLE given ();']);
  });
});

describe('file names and versions (goose NumericComponent)', () => {
  test.each([
    ['001_create.sql', 1n, 'create'],
    ['20240102150405_add_index.sql', 20240102150405n, 'add_index'],
    ['7_a_b.sql', 7n, 'a_b'],
    ['+8_signed.sql', 8n, 'signed'],
    ['9_.sql', 9n, ''],
    ['9223372036854775807_max.sql', 9223372036854775807n, 'max'],
  ])('%s has version %s', (name, version, description) => {
    expect(GOOSE_FILE_NAME.test(name)).toBe(true);
    const file = parseGooseFile(name, '-- +goose Up\n');
    expect([file.version, file.description]).toEqual([version, description]);
  });

  test.each([
    ['0_zero.sql', 'goose file 0_zero.sql: version 0 must be greater than zero'],
    ['000_zero.sql', 'goose file 000_zero.sql: version 000 must be greater than zero'],
    ['-3_negative.sql', 'goose file -3_negative.sql: version -3 must be greater than zero'],
    ['9223372036854775808_big.sql', 'goose file 9223372036854775808_big.sql: version 9223372036854775808 does not fit in a 64-bit integer, as goose requires'],
    ['create_x.sql', 'goose file create_x.sql: name must look like NNN_description.sql'],
    ['12.sql', 'goose file 12.sql: name must look like NNN_description.sql'],
    ['1_upper.SQL', 'goose file 1_upper.SQL: name must look like NNN_description.sql'],
  ])('%s is refused', (name, message) => {
    const run = () => parseGooseFile(name, '-- +goose Up\n');
    expect(run).toThrow(MigrationError);
    expect(run).toThrow(new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });
});

test(`reproduces every case of goose's parser tests but ${NOT_APPLICABLE.join(', ')}`, () => {
  expect(GOOSE_CASES).toHaveLength(52);
  expect(GOOSE_CASES.filter((id) => !covered.has(id))).toEqual(NOT_APPLICABLE);
  expect(covered.size).toBe(51);
});
