import { goEqualFoldAscii, goTrimSpace } from './go-text.ts';

/** The `-- +goose …` annotations goose knows, spelled as goose documents them. */
export const GOOSE_ANNOTATIONS = ['Up', 'Down', 'StatementBegin', 'StatementEnd', 'NO TRANSACTION', 'ENVSUB ON', 'ENVSUB OFF'] as const;

export type GooseAnnotation = (typeof GOOSE_ANNOTATIONS)[number];

/** What an annotation line says, or why goose refuses it. */
export type AnnotationReading = { readonly annotation: GooseAnnotation } | { readonly problem: string };

/**
 * Reads a line that goose takes for an annotation: one that is a comment once white space is
 * trimmed and that mentions `+goose` anywhere (so `-- see +goose docs` is an annotation, and
 * a wrong one, while `-- +GOOSE Up` is an ordinary comment). Goose is strict about the rest:
 * the line must start at column 1, every `--` in it is dropped, the word must be one of
 * {@link GOOSE_ANNOTATIONS} in any letter case, and nothing else may follow it.
 *
 * @example readAnnotation('-- +goose   up ') // { annotation: 'Up' }
 * @returns `undefined` for a line goose does not take for an annotation.
 */
export function readAnnotation(line: string): AnnotationReading | undefined {
  if (!goTrimSpace(line).startsWith('--') || !line.includes('+goose')) return undefined;
  if (line.startsWith(' ') || line.startsWith('\t')) {
    return { problem: `annotation ${JSON.stringify(line)} must start at the beginning of the line, without leading white space` };
  }
  const withoutMarker = line.replaceAll('--', '').replace('+goose', '');
  if (withoutMarker.includes('+goose')) {
    return { problem: `annotation ${JSON.stringify(line)} holds "+goose" more than once` };
  }
  const word = goTrimSpace(withoutMarker);
  if (word === '') {
    return { problem: `empty annotation ${JSON.stringify(line)}: say what it is, e.g. "-- +goose Up"` };
  }
  const annotation = GOOSE_ANNOTATIONS.find((known) => goEqualFoldAscii(word, known));
  if (!annotation) {
    return {
      problem: `unsupported annotation ${JSON.stringify(line)} (goose knows ${GOOSE_ANNOTATIONS.map((known) => `"-- +goose ${known}"`).join(', ')}; any text after "-- +goose" counts, even a comment)`,
    };
  }
  return { annotation };
}
