/*
 * Reading the README as the tests check it: its troubleshooting rows, its console transcripts,
 * and the pattern language both use, in which `…` stands for any text on the line and the
 * milliseconds of a progress line may differ.
 */

export type Runner = 'vitest' | 'jest' | 'cli';

/** One row of the troubleshooting table: what the user sees, and the exit code per runner (null: does not apply). */
export interface TroubleRow {
  readonly id: string;
  /** The alternatives the row shows (`a` / `b`), each a pattern. */
  readonly messages: readonly string[];
  readonly exitCodes: Readonly<Record<Runner, number | null>>;
  /** The row as written, for failure messages. */
  readonly text: string;
}

/** One `$ command` of a ```console block and what the README says it prints. */
export interface TranscriptStep {
  readonly command: string;
  readonly expected: string;
}

/** The text under `heading` (a whole line, e.g. `## Troubleshooting`) up to the next heading of its level or above. */
export function section(readme: string, heading: string): string {
  const lines = readme.split('\n');
  const start = lines.indexOf(heading);
  if (start === -1) throw new Error(`the README has no "${heading}"`);
  const level = /^#+/.exec(heading)![0].length;
  const end = lines.findIndex((line, i) => i > start && /^#+ /.test(line) && /^#+/.exec(line)![0].length <= level);
  return lines.slice(start, end === -1 ? undefined : end).join('\n');
}

/** The rows marked `<!-- case: id -->`, with the columns: message(s) | Vitest | Jest | CLI | … */
export function troubleRows(text: string): TroubleRow[] {
  const rows: TroubleRow[] = [];
  for (const line of text.split('\n')) {
    const id = /<!-- case: ([\w-]+) -->/.exec(line)?.[1];
    if (!id) continue;
    const cells = line.replace(/^\||\|$/g, '').split(/(?<!\\)\|/).map((cell) => cell.trim().replaceAll('\\|', '|'));
    const [what, vitest, jest, cli] = cells;
    const exit = (cell: string | undefined): number | null => {
      if (cell === '—') return null;
      if (!cell || !/^\d+$/.test(cell)) throw new Error(`row ${id}: an exit code cell is "${cell}", not a number or —:\n${line}`);
      return Number(cell);
    };
    const messages = codeSpans(what ?? '');
    if (messages.length === 0) throw new Error(`row ${id} shows no message in backticks:\n${line}`);
    rows.push({ id, messages, exitCodes: { vitest: exit(vitest), jest: exit(jest), cli: exit(cli) }, text: line });
  }
  return rows;
}

/** The contents of the Markdown code spans in `text` (`x` and ``x with `ticks` ``). */
export function codeSpans(text: string): string[] {
  return [...text.matchAll(/(`+)(?!`)(.+?)(?<!`)\1(?!`)/g)].map((m) => m[2]!.replace(/^ (.*) $/, '$1'));
}

/** The steps of every ```console block: `$ command` lines, each followed by what it prints. */
export function transcripts(text: string): TranscriptStep[][] {
  const blocks = [...text.matchAll(/^```console\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  return blocks.map((block) => {
    const steps: { command: string; expected: string[] }[] = [];
    for (const line of block.replace(/\n$/, '').split('\n')) {
      if (line.startsWith('$ ')) steps.push({ command: line.slice(2), expected: [] });
      else if (steps.length === 0) throw new Error(`a console block starts with "${line}", not with "$ "`);
      else steps.at(-1)!.expected.push(line);
    }
    return steps.map((step) => ({ command: step.command, expected: step.expected.join('\n') }));
  });
}

/** A pattern as a regular expression: `…` is any text on the line, `N ms` any number of ms (padding free). */
export function patternRegExp(pattern: string, flags = ''): RegExp {
  const source = pattern
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ *\d+ ms/g, ' *\\d+ ms'))
    .join('.*?');
  return new RegExp(source, flags);
}

/** Whether `text`'s lines are `pattern`'s lines, one for one. */
export function matchesLines(pattern: string, text: string): boolean {
  const want = pattern.split('\n');
  const got = text.replace(/\n$/, '').split('\n');
  return want.length === got.length && want.every((line, i) => new RegExp(`^${patternRegExp(line).source}$`).test(got[i]!));
}
