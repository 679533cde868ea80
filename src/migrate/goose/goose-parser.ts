import { MigrationError } from '../../errors/errors.ts';
import { substituteEnv } from './envsub.ts';
import { goFields, goTrimSpace, scanLines, GO_SCANNER_LIMIT_BYTES } from './go-text.ts';
import { readAnnotation } from './goose-annotation.ts';

/** One goose SQL file, parsed. */
export interface GooseFile {
  readonly version: bigint;
  readonly description: string;
  /** The statements of the Up section, each exactly as goose would send it. */
  readonly up: readonly string[];
  readonly down: readonly string[];
  /** 1-based line of the file where each `up` statement begins, index for index. */
  readonly upLines: readonly number[];
  /** 1-based line of the file where each `down` statement begins, index for index. */
  readonly downLines: readonly number[];
  /** False when the file says `-- +goose NO TRANSACTION` (anywhere, as goose reads it). */
  readonly transactional: boolean;
}

export interface ParseGooseFileOptions {
  /** Variables for `-- +goose ENVSUB ON`. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * `NNN_description.sql`; the number orders the files, not their text. Like goose, the number
 * is everything before the first `_` and may carry a sign; {@link parseGooseFile} then
 * refuses what goose refuses (zero, negative, beyond 64 bits).
 */
export const GOOSE_FILE_NAME = /^([+-]?\d+)_([^/\\]*)\.sql$/;

const INT64_MAX = 2n ** 63n - 1n;

type Section = 'up' | 'down';

/** A line held for the statement being read. */
interface HeldLine {
  readonly number: number;
  readonly text: string;
}

/**
 * Parses a goose SQL migration exactly as goose (`internal/sqlparser`) does: a goose directory
 * must run here as it runs under goose, statement for statement. In short:
 *
 * - `-- +goose Up` opens the file's SQL (only comments and blank lines may come before it);
 *   `-- +goose Down` may follow once. Annotations start at column 1, any letter case.
 * - A statement ends at a line whose last word before a `--` comment ends with `;`
 *   (`SELECT 1; -- note` ends, `SELECT 1;-- note` does not). Between
 *   `-- +goose StatementBegin` and `StatementEnd` nothing ends it.
 * - Comment and empty lines between statements are dropped; once a statement has begun every
 *   line is kept as written, comments and blank lines included. A statement is its lines
 *   joined by `\n` (CRLF files give LF) with white space trimmed from both ends.
 * - `-- +goose NO TRANSACTION` anywhere makes the file non-transactional;
 *   `-- +goose ENVSUB ON`/`OFF` switch variable substitution (see {@link substituteEnv}).
 *
 * Goose's quirks are kept on purpose, since a file must not change meaning between the two:
 * a whitespace-only line between statements starts the next statement (so a comment after
 * it is kept, and is "unterminated" if no SQL follows); a StatementBegin block with no SQL in
 * it yields an empty statement in place of the next non-comment line, which is dropped.
 *
 * Every error is a {@link MigrationError} naming the file and line:
 * `goose file 001_x.sql, line 3: …`.
 *
 * @example
 * const file = parseGooseFile('001_items.sql', '-- +goose Up\nCREATE TABLE items (id int);\n');
 * file.up // ['CREATE TABLE items (id int);']
 */
export function parseGooseFile(fileName: string, text: string, options: ParseGooseFileOptions = {}): GooseFile {
  const { version, description } = versionOf(fileName);
  const env = options.env ?? process.env;
  const fail = (line: number, what: string): never => {
    throw new MigrationError(`goose file ${fileName}, line ${line}: ${what}`, { file: fileName, migration: fileName.replace(/\.sql$/, '') });
  };

  const statements = { up: [] as string[], down: [] as string[] };
  const starts = { up: [] as number[], down: [] as number[] };
  const annotatedAt = { up: 0, down: 0 };
  let section: Section | undefined;
  let blockStart: number | undefined; // line of the open StatementBegin
  // Goose's state after a StatementEnd that closed an empty block: the next line that is
  // neither comment nor empty becomes an empty statement, and its text is lost.
  let afterEmptyBlock = false;
  let transactional = true;
  let envsub = false;
  let held: HeldLine[] = [];

  const store = (into: Section, lineIfEmpty: number): void => {
    statements[into].push(goTrimSpace(held.map((line) => line.text).join('\n')));
    starts[into].push(firstContent(held)?.number ?? held[0]?.number ?? lineIfEmpty);
    held = [];
  };
  const requireTerminated = (where: string): void => {
    const content = firstContent(held);
    if (!content) return;
    const onlyComments = held.every((line) => goTrimSpace(line.text) === '' || goTrimSpace(line.text).startsWith('--'));
    const why =
      onlyComments && goTrimSpace(held[0]!.text) === ''
        ? `the line of white space on line ${held[0]!.number} begins a statement in goose, so the comments after it are its text; make that line empty`
        : 'goose ends a statement at a line whose last word before any "--" ends with ";"; ' +
          'wrap statements that need otherwise in "-- +goose StatementBegin" / "-- +goose StatementEnd"';
    fail(content.number, `statement not terminated by ";" ${where} (${why})`);
  };

  const lines = scanLines(text);
  for (const { number, text: line, tooLong } of lines) {
    if (tooLong) fail(number, `line is longer than goose's limit of ${GO_SCANNER_LIMIT_BYTES} bytes`);
    if (section === undefined && goTrimSpace(line) === '') continue;

    const reading = readAnnotation(line);
    if (reading && 'problem' in reading) fail(number, reading.problem);
    if (reading && 'annotation' in reading) {
      switch (reading.annotation) {
        case 'Up':
          if (section) fail(number, `a second "-- +goose Up" annotation (the first is on line ${annotatedAt.up})`);
          section = 'up';
          annotatedAt.up = number;
          continue;
        case 'Down':
          if (!section) fail(number, 'no "-- +goose Up" annotation before "-- +goose Down"');
          if (section === 'down') fail(number, `a second "-- +goose Down" annotation (the first is on line ${annotatedAt.down})`);
          if (blockStart !== undefined) fail(blockStart, `StatementBegin is never closed by "-- +goose StatementEnd" ("-- +goose Down" on line ${number} comes first)`);
          requireTerminated(`before "-- +goose Down" on line ${number}`);
          section = 'down';
          annotatedAt.down = number;
          afterEmptyBlock = false;
          continue;
        case 'StatementBegin':
          if (!section) fail(number, 'StatementBegin before the "-- +goose Up" annotation');
          if (blockStart !== undefined) fail(number, `StatementBegin inside the block opened on line ${blockStart}`);
          blockStart = number;
          afterEmptyBlock = false;
          continue;
        case 'StatementEnd':
          if (blockStart === undefined) fail(number, 'StatementEnd without a StatementBegin');
          blockStart = undefined;
          if (held.length > 0) store(section!, number);
          else afterEmptyBlock = true;
          continue;
        case 'NO TRANSACTION':
          transactional = false;
          continue;
        case 'ENVSUB ON':
          envsub = true;
          continue;
        case 'ENVSUB OFF':
          envsub = false;
          continue;
      }
    }

    // Before a statement begins, comment and empty lines are skipped. A line of spaces is not
    // empty: it begins a statement, as in goose.
    if (held.length === 0 && (goTrimSpace(line).startsWith('--') || line === '')) continue;
    if (afterEmptyBlock) {
      afterEmptyBlock = false;
      store(section!, number);
      continue;
    }
    let sql = line;
    if (envsub) {
      const substituted = substituteEnv(line, env);
      if (!substituted.ok) fail(number, `ENVSUB: ${substituted.reason}`);
      else sql = substituted.text;
    }
    if (!section) {
      const bom = number === 1 && line.startsWith('\ufeff') ? ' (the file starts with a byte order mark, which goose reads as SQL: save it without one)' : '';
      fail(number, `SQL before the "-- +goose Up" annotation${bom}`);
    }
    held.push({ number, text: sql });
    if (blockStart === undefined && endsStatement(sql)) store(section!, number);
  }

  if (!section) fail(Math.max(lines.length, 1), 'no "-- +goose Up" annotation (goose requires one, even for an empty migration)');
  if (blockStart !== undefined) fail(blockStart, 'StatementBegin is never closed by "-- +goose StatementEnd"');
  requireTerminated('at the end of the file');

  return Object.freeze({
    version,
    description,
    up: Object.freeze(statements.up),
    down: Object.freeze(statements.down),
    upLines: Object.freeze(starts.up),
    downLines: Object.freeze(starts.down),
    transactional,
  });
}

/** Goose's test: the last word before any word starting with `--` ends with `;`. */
function endsStatement(line: string): boolean {
  let last = '';
  for (const word of goFields(line)) {
    if (word.startsWith('--')) break;
    last = word;
  }
  return last.endsWith(';');
}

function firstContent(held: readonly HeldLine[]): HeldLine | undefined {
  return held.find((line) => goTrimSpace(line.text) !== '');
}

/** Goose's `NumericComponent`: the number before the first `_`, from 1 to 2^63 - 1. */
function versionOf(fileName: string): { version: bigint; description: string } {
  const match = GOOSE_FILE_NAME.exec(fileName);
  if (!match) {
    throw new MigrationError(`goose file ${fileName}: name must look like NNN_description.sql`, { file: fileName });
  }
  const version = BigInt(match[1]!);
  const refuse = (why: string): never => {
    throw new MigrationError(`goose file ${fileName}: version ${match[1]} ${why}`, { file: fileName, migration: fileName.replace(/\.sql$/, '') });
  };
  if (version < 1n) refuse('must be greater than zero');
  if (version > INT64_MAX) refuse('does not fit in a 64-bit integer, as goose requires');
  return { version, description: match[2]! };
}

/**
 * The version a ledger row names, when it names a goose file: 0.1.0 recorded goose migrations
 * by file base name (`1_create_items`), and a version is what identifies them.
 *
 * @example gooseVersionOf('0001_create_items') // 1n
 * @returns `undefined` for a name that is not `NNN_…` with a version goose accepts.
 */
export function gooseVersionOf(baseName: string): bigint | undefined {
  const match = GOOSE_FILE_NAME.exec(`${baseName}.sql`);
  if (!match) return undefined;
  const version = BigInt(match[1]!);
  return version >= 1n && version <= INT64_MAX ? version : undefined;
}
