/**
 * Text handling as Go's standard library does it, for the few operations goose's SQL parser
 * relies on. They differ from JavaScript's in ways that change results: Go's white space
 * includes U+0085 but not the byte order mark U+FEFF, which `String.prototype.trim()` removes;
 * Go splits lines on `\n` only, dropping one `\r` before it.
 */

/** Lines longer than this stop goose's line scanner (`bufio.Scanner` with a 4 MiB buffer). */
export const GO_SCANNER_LIMIT_BYTES = 4 * 1024 * 1024;

/** One line of a file as goose's scanner yields it. */
export interface GoLine {
  /** 1-based. */
  readonly number: number;
  /** Without its `\n` and without one `\r` before it. */
  readonly text: string;
  /** Goose's scanner fails on this line: it does not fit the scanner's buffer. */
  readonly tooLong: boolean;
}

/**
 * Splits `text` into lines as `bufio.ScanLines` does: on `\n`, dropping one trailing `\r`;
 * a final newline does not start another line, so `""` has no line and `"\n"` has one.
 */
export function scanLines(text: string): GoLine[] {
  const parts = text.split('\n');
  const endsWithNewline = parts[parts.length - 1] === '';
  if (endsWithNewline) parts.pop();
  return parts.map((raw, index) => {
    const followedByNewline = endsWithNewline || index < parts.length - 1;
    return {
      number: index + 1,
      text: raw.endsWith('\r') ? raw.slice(0, -1) : raw,
      tooLong: isTooLong(raw, followedByNewline),
    };
  });
}

function isTooLong(raw: string, followedByNewline: boolean): boolean {
  // UTF-16 length × 3 bounds the UTF-8 length: skip counting bytes for ordinary lines.
  if (raw.length * 3 + 1 < GO_SCANNER_LIMIT_BYTES) return false;
  const bytes = Buffer.byteLength(raw, 'utf8');
  // The line and its newline must fit the buffer; a last line without one must leave room
  // for the scanner to see the end of the file.
  return followedByNewline ? bytes + 1 > GO_SCANNER_LIMIT_BYTES : bytes >= GO_SCANNER_LIMIT_BYTES;
}

/** `unicode.IsSpace`: the characters Go's `strings.TrimSpace` and `bufio.ScanWords` skip. */
export function isGoSpace(char: string): boolean {
  switch (char) {
    case ' ':
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case '\u0085':
    case '\u00a0':
    case '\u1680':
    case '\u2028':
    case '\u2029':
    case '\u202f':
    case '\u205f':
    case '\u3000':
      return true;
    default:
      return char >= '\u2000' && char <= '\u200a' && char.length === 1;
  }
}

/** `strings.TrimSpace`. */
export function goTrimSpace(text: string): string {
  let start = 0;
  let end = text.length;
  // Every Go space is one UTF-16 unit, so indexing by unit is exact.
  while (start < end && isGoSpace(text[start]!)) start++;
  while (end > start && isGoSpace(text[end - 1]!)) end--;
  return text.slice(start, end);
}

/** The words of `text` as `bufio.ScanWords` splits them: runs of non-space characters. */
export function goFields(text: string): string[] {
  const words: string[] = [];
  let word = '';
  for (const char of text) {
    if (isGoSpace(char)) {
      if (word) words.push(word);
      word = '';
    } else {
      word += char;
    }
  }
  if (word) words.push(word);
  return words;
}

/**
 * `strings.EqualFold(text, asciiWord)` for an ASCII `asciiWord`. Besides ASCII case, Go's
 * simple case folding maps exactly two other characters onto ASCII letters: `ſ` (U+017F) onto
 * `s` and the Kelvin sign (U+212A) onto `k`.
 */
export function goEqualFoldAscii(text: string, asciiWord: string): boolean {
  const chars = [...text];
  if (chars.length !== asciiWord.length) return false;
  return chars.every((char, index) => foldToAscii(char) === asciiWord[index]!.toLowerCase());
}

function foldToAscii(char: string): string {
  if (char === '\u017f') return 's';
  if (char === '\u212a') return 'k';
  return char >= 'A' && char <= 'Z' ? char.toLowerCase() : char;
}
