import { goTrimSpace } from './go-text.ts';

/** A line after substitution, or why goose would refuse it. */
export type EnvsubResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly reason: string };

/**
 * Substitutes environment variables into one line as goose does under
 * `-- +goose ENVSUB ON` (goose uses github.com/mfridman/interpolate v0.0.2):
 *
 * - `$NAME`, `${NAME}`: the value; an unset variable gives the empty string, not an error.
 * - `${NAME:-word}`: `word` when unset or empty. `${NAME-word}`: `word` when unset.
 * - `${NAME?message}`: an error naming the variable when it is unset (empty is fine).
 * - `${NAME:offset}`, `${NAME:offset:length}`: a slice of the value's UTF-8 bytes; a negative
 *   offset counts from the end (`${NAME: -3}`), a negative length stops short of the end.
 * - `$$` and `\$` give `$`; `\\` stays `\\`; `$(` stays as written; a `$` ending the line stays.
 * - `word` and `message` may hold expansions (`${A:-${B}}`), expanded only when used.
 *
 * Names start with a letter and go on with letters, digits and `_`. Anything else after `$`
 * (`$1`, `$ `, `${_X}`), `${NAME:?…}` (unsupported by goose) and an unclosed `${` are errors.
 * Since `$$` gives `$`, dollar-quoted bodies (`AS $$ … $$`) change under ENVSUB: goose's
 * advice is to switch ENVSUB on only around the lines that need it.
 *
 * @example substituteEnv('CREATE TABLE ${REGION}_t ();', { REGION: 'eu' }) // { ok: true, text: 'CREATE TABLE eu_t ();' }
 */
export function substituteEnv(line: string, env: NodeJS.ProcessEnv): EnvsubResult {
  try {
    // Like goose: the whole line is read first, so a malformed `$…` fails even when an
    // earlier expansion would have failed too.
    const parsed = new LineParser(line).parse();
    return { ok: true, text: expand(parsed, env) };
  } catch (error) {
    if (error instanceof EnvsubFailure) return { ok: false, reason: error.reason };
    throw error;
  }
}

/** Thrown inside this module only, and turned into an {@link EnvsubResult}. */
class EnvsubFailure {
  readonly reason: string;
  constructor(reason: string) {
    this.reason = reason;
  }
}

type Part = string | Expansion;

type Expansion =
  | { readonly kind: 'value'; readonly name: string }
  | { readonly kind: 'default-if-empty' | 'default-if-unset'; readonly name: string; readonly word: readonly Part[] }
  | { readonly kind: 'required'; readonly name: string; readonly message: readonly Part[] }
  | { readonly kind: 'substring'; readonly name: string; readonly offset: bigint; readonly length: bigint | undefined };

const END = '';
const LITERAL_DOLLAR_HINT = 'write "$$" or "\\$" for a literal "$"';

/** Recursive descent over one line, character by character (code points, as Go reads runes). */
class LineParser {
  readonly #text: string;
  #pos = 0;

  constructor(text: string) {
    this.#text = text;
  }

  parse(): Part[] {
    return this.#parts(undefined);
  }

  #parts(stop: '}' | undefined): Part[] {
    const parts: Part[] = [];
    while (this.#peek() !== END && this.#peek() !== stop) {
      const rest = this.#text.slice(this.#pos, this.#pos + 2);
      if (rest === '\\\\') {
        this.#pos += 2;
        parts.push('\\\\');
      } else if (rest === '\\$' || rest === '$$') {
        this.#pos += 2;
        parts.push('$');
      } else if (rest === '$(') {
        this.#pos += 2;
        parts.push('$(');
      } else if (rest.length === 2 && rest[0] === '$') {
        parts.push(this.#expansion());
      } else {
        const first = this.#next();
        parts.push(first + this.#scanUntil((char) => char === '$' || char === '\\' || char === stop));
      }
    }
    return parts;
  }

  #expansion(): Expansion {
    const start = this.#pos;
    this.#next(); // the `$`
    if (this.#peek() === '{') return this.#braced(start);
    return { kind: 'value', name: this.#name('"$"', start) };
  }

  #braced(start: number): Expansion {
    this.#next(); // the `{`
    const name = this.#name('"${"', start);
    if (this.#peek() === '}') {
      this.#next();
      return { kind: 'value', name };
    }
    const operator = this.#next();
    let expansion: Expansion;
    if (operator === ':' && this.#peek() === '-') {
      this.#next();
      expansion = { kind: 'default-if-empty', name, word: this.#parts('}') };
    } else if (operator === ':') {
      expansion = this.#substring(name);
    } else if (operator === '-') {
      expansion = { kind: 'default-if-unset', name, word: this.#parts('}') };
    } else if (operator === '?') {
      expansion = { kind: 'required', name, message: this.#parts('}') };
    } else {
      throw new EnvsubFailure(
        `${describe(operator)} after "\${${name}" at column ${this.#column(start)} is not an operator goose knows ` +
          `(\${${name}}, \${${name}:-default}, \${${name}-default}, \${${name}?message}, \${${name}:offset:length})`,
      );
    }
    const close = this.#next();
    if (close !== '}') {
      throw new EnvsubFailure(`"\${${name}" at column ${this.#column(start)} is not closed by "}" (found ${describe(close)})`);
    }
    return expansion;
  }

  #substring(name: string): Expansion {
    const offsetText = this.#scanUntil((char) => char === ':' || char === '}');
    const offset = goAtoi(goTrimSpace(offsetText));
    if (offset === undefined) {
      const hint = offsetText.startsWith('?') ? ` ("\${${name}:?…}" is not supported by goose; "\${${name}?message}" is)` : '';
      throw new EnvsubFailure(`offset ${JSON.stringify(offsetText)} in "\${${name}:…}" is not a whole number${hint}`);
    }
    if (this.#peek() === '}') return { kind: 'substring', name, offset, length: undefined };
    this.#next(); // the `:` (or whatever stopped the scan)
    const lengthText = this.#scanUntil((char) => char === '}');
    const length = goAtoi(goTrimSpace(lengthText));
    if (length === undefined) {
      throw new EnvsubFailure(`length ${JSON.stringify(lengthText)} in "\${${name}:…}" is not a whole number`);
    }
    return { kind: 'substring', name, offset, length };
  }

  /** A variable name; `start` is where its `$` is, for the message. */
  #name(after: string, start: number): string {
    const first = this.#peek();
    if (!/^\p{L}$/u.test(first)) {
      throw new EnvsubFailure(
        `${after} at column ${this.#column(start)} must be followed by a variable name starting with a letter, found ${describe(first)}; ${LITERAL_DOLLAR_HINT}`,
      );
    }
    return this.#scanUntil((char) => !/^[\p{L}\p{N}_]$/u.test(char));
  }

  /** Consumes characters while `stop` says no. U+FFFD always stops, as Go's decoder error does. */
  #scanUntil(stop: (char: string) => boolean): string {
    const start = this.#pos;
    for (let char = this.#peek(); char !== END && char !== '\ufffd' && !stop(char); char = this.#peek()) {
      this.#pos += char.length;
    }
    return this.#text.slice(start, this.#pos);
  }

  #peek(): string {
    const code = this.#text.codePointAt(this.#pos);
    return code === undefined ? END : String.fromCodePoint(code);
  }

  #next(): string {
    const char = this.#peek();
    this.#pos += char.length;
    return char;
  }

  #column(index: number): number {
    return [...this.#text.slice(0, index)].length + 1;
  }
}

function expand(parts: readonly Part[], env: NodeJS.ProcessEnv): string {
  let text = '';
  for (const part of parts) text += typeof part === 'string' ? part : expandOne(part, env);
  return text;
}

function expandOne(expansion: Expansion, env: NodeJS.ProcessEnv): string {
  const value = lookup(env, expansion.name);
  switch (expansion.kind) {
    case 'value':
      return value ?? '';
    case 'default-if-empty':
      return value === undefined || value === '' ? expand(expansion.word, env) : value;
    case 'default-if-unset':
      return value === undefined ? expand(expansion.word, env) : value;
    case 'required': {
      if (value !== undefined) return value;
      const message = expand(expansion.message, env);
      throw new EnvsubFailure(`$${expansion.name}: ${message === '' ? 'not set' : message}`);
    }
    case 'substring':
      return byteSlice(value ?? '', expansion.offset, expansion.length);
  }
}

function lookup(env: NodeJS.ProcessEnv, name: string): string | undefined {
  // Own keys only: `constructor` or `toString` are not variables.
  return Object.hasOwn(env, name) ? env[name] : undefined;
}

/** Go slices strings by byte; a cut through a character decodes to U+FFFD here. */
function byteSlice(value: string, offset: bigint, length: bigint | undefined): string {
  const bytes = Buffer.from(value, 'utf8');
  const size = BigInt(bytes.length);
  let from = offset < 0n ? offset + size : offset;
  if (from < 0n) from = 0n;
  if (from > size) from = size;
  let to = size;
  if (length !== undefined) {
    to = length >= 0n ? length + from : length + size;
    if (to < from) to = from;
    if (to > size) to = size;
  }
  return bytes.subarray(Number(from), Number(to)).toString('utf8');
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** `strconv.Atoi` on 64-bit Go: an optional sign and decimal digits, in int64 range. */
function goAtoi(text: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

function describe(char: string): string {
  return char === END ? 'the end of the line' : JSON.stringify(char);
}
