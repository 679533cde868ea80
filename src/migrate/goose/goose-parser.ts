import { MigrationError } from '../../errors/errors.ts';

/** One goose SQL file, parsed. */
export interface GooseFile {
  readonly version: bigint;
  readonly description: string;
  readonly up: readonly string[];
  readonly down: readonly string[];
  /** False when the file says `-- +goose NO TRANSACTION`. */
  readonly transactional: boolean;
}

/** `NNN_description.sql`; the number orders the files, not their text. */
export const GOOSE_FILE_NAME = /^(\d+)_([^/\\]+)\.sql$/;

const ANNOTATION = /^--\s*\+goose\s+(.*?)\s*$/;

/**
 * Parses goose's SQL dialect: `-- +goose Up` / `Down` sections; statements end at a line
 * ending in `;` unless wrapped in `StatementBegin`/`StatementEnd` (function bodies with
 * `$$`); `NO TRANSACTION` anywhere. Errors name the file and line.
 */
export function parseGooseFile(fileName: string, text: string): GooseFile {
  const match = GOOSE_FILE_NAME.exec(fileName);
  if (!match) {
    throw new MigrationError(`goose file ${fileName}: name must look like NNN_description.sql`, { file: fileName });
  }
  const fail = (line: number, what: string): never => {
    throw new MigrationError(`goose file ${fileName}, line ${line}: ${what}`, { file: fileName, migration: fileName.replace(/\.sql$/, '') });
  };

  const sections: { up: string[] | undefined; down: string[] | undefined } = { up: undefined, down: undefined };
  let current: string[] | undefined;
  let transactional = true;
  let buffer: string[] = [];
  let bufferStart = 0;
  let blockStart = 0; // line of an open StatementBegin, 0 when none

  const flush = (line: number): void => {
    const statement = buffer.join('\n').trim();
    buffer = [];
    if (statement.length === 0) return;
    if (!current) fail(line, 'SQL before the "-- +goose Up" annotation');
    current!.push(statement);
  };

  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const annotation = ANNOTATION.exec(raw.trim());
    if (annotation) {
      const word = annotation[1] ?? '';
      switch (word) {
        case 'Up':
        case 'Down': {
          if (blockStart) fail(blockStart, `StatementBegin is never closed by "-- +goose StatementEnd" ("-- +goose ${word}" on line ${lineNo} comes first)`);
          if (buffer.join('').trim()) fail(bufferStart, 'statement not terminated by ";" before the next section');
          const key = word === 'Up' ? 'up' : 'down';
          if (sections[key]) fail(lineNo, `a second "-- +goose ${word}" section`);
          current = sections[key] = [];
          return;
        }
        case 'StatementBegin':
          if (!current) fail(lineNo, 'StatementBegin before the "-- +goose Up" annotation');
          if (blockStart) fail(lineNo, `StatementBegin inside the block opened on line ${blockStart}`);
          if (buffer.join('').trim()) fail(bufferStart, 'statement not terminated by ";" before StatementBegin');
          blockStart = lineNo;
          buffer = [];
          return;
        case 'StatementEnd':
          if (!blockStart) fail(lineNo, 'StatementEnd without a StatementBegin');
          blockStart = 0;
          flush(lineNo);
          return;
        case 'NO TRANSACTION':
          transactional = false;
          return;
        default:
          fail(lineNo, `unsupported annotation "-- +goose ${word}" (supported: Up, Down, StatementBegin, StatementEnd, NO TRANSACTION)`);
      }
    }
    if (blockStart) {
      buffer.push(raw);
      return;
    }
    const trimmed = raw.trim();
    // Comment-only lines outside a block carry no SQL; dropping them keeps checksums
    // insensitive to comment edits.
    if (trimmed === '' || trimmed.startsWith('--')) return;
    if (buffer.length === 0) bufferStart = lineNo;
    buffer.push(raw);
    if (stripTrailingComment(trimmed).endsWith(';')) flush(lineNo);
  });

  if (blockStart) fail(blockStart, 'StatementBegin is never closed by "-- +goose StatementEnd"');
  if (buffer.join('').trim()) fail(bufferStart, 'statement not terminated by ";" at the end of the file');
  if (!sections.up) fail(1, 'no "-- +goose Up" annotation');

  return Object.freeze({
    version: BigInt(match[1]!),
    description: match[2]!,
    up: Object.freeze(sections.up ?? []),
    down: Object.freeze(sections.down ?? []),
    transactional,
  });
}

function stripTrailingComment(line: string): string {
  // Only a `--` outside quotes starts a comment; good enough for the line-end check goose does.
  let inQuote = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === "'") inQuote = !inQuote;
    else if (!inQuote && ch === '-' && line[i + 1] === '-') return line.slice(0, i).trimEnd();
  }
  return line;
}

/** Relations a list of statements creates, by name (schema and quotes removed). */
export function createdRelations(statements: readonly string[]): string[] {
  const pattern =
    /\bcreate\s+(?:or\s+replace\s+)?(?:(?:temp|temporary|unlogged|materialized)\s+)?(?:table|view)\s+(?:if\s+not\s+exists\s+)?((?:"[^"]+"|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|[\w$]+))?)/gi;
  const names = new Set<string>();
  for (const statement of statements) {
    for (const found of statement.matchAll(pattern)) {
      const qualified = found[1]!.split('.').map((part) => part.trim());
      const last = qualified[qualified.length - 1]!;
      const name = last.startsWith('"') ? last.slice(1, -1) : last.toLowerCase();
      // A PARTITION OF child is part of its parent, not a table a user selects.
      if (/\bpartition\s+of\b/i.test(statement.slice(found.index ?? 0))) continue;
      names.add(name);
    }
  }
  return [...names];
}
