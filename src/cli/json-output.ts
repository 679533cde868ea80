import { redact } from '../report/redact.ts';

/*
 * `--json`: every CLI outcome is one JSON document, one line on stdout, made here and nowhere
 * else, so a new command gets the same shape by calling this.
 *
 *   { "ok": true,  "command": "apply", "exitCode": 0, ...the command's result }
 *   { "ok": false, "command": "apply", "exitCode": 1, "error": { "name", "message", "stage", "exitCode", "details" } }
 *
 * `ok` is `exitCode === 0`. The command's fields sit beside the envelope's (as they did before
 * `command` and `exitCode` were added); `doctor` and `status` can finish with `ok: false` and
 * their result but no `error` (a broken link, a changed migration).
 */

/** The keys every document has; a result field of the same name never overrides them. */
export interface JsonEnvelope {
  readonly ok: boolean;
  /** The command that ran; `null` when the command line named none that exists. */
  readonly command: string | null;
  readonly exitCode: number;
  readonly error?: JsonError;
}

export interface JsonError {
  /** `ConfigError`, `DatabaseError`, … (`Interrupted` after SIGINT/SIGTERM). */
  readonly name: string;
  readonly message: string;
  /** The stage that failed (`config`, `cluster`, `forward`, `migrate`, `verify`, …), when one did. */
  readonly stage?: string;
  readonly exitCode: number;
  /** The values to act on (key, host, port, migration, …); `{}` when there are none. */
  readonly details: Readonly<Record<string, unknown>>;
  /** VerificationError: every problem found (also in `details.problems`). */
  readonly problems?: readonly string[];
}

export type JsonOutcome =
  | { readonly command: string | null; readonly exitCode: number; readonly result: object }
  | { readonly command: string | null; readonly exitCode: number; readonly error: unknown };

/**
 * The document for one outcome, on one line (a script can read `forward`'s before the command
 * ends; `jq` makes it readable), secrets replaced by `***`.
 */
export function jsonDocument(outcome: JsonOutcome, secrets: readonly string[] = []): string {
  const envelope = { ok: outcome.exitCode === 0, command: outcome.command, exitCode: outcome.exitCode };
  // Envelope keys first and last: first for the order people read, last so they win.
  const document = 'error' in outcome ? { ...envelope, error: jsonError(outcome.error, outcome.exitCode) } : Object.assign({ ...envelope }, outcome.result, envelope);
  return `${redact(JSON.stringify(document), secrets)}\n`;
}

function jsonError(error: unknown, exitCode: number): JsonError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), exitCode, details: {} };
  const { stage, details, problems } = error as Error & { stage?: string; details?: Record<string, unknown>; problems?: readonly string[] };
  return {
    name: error.name,
    message: error.message,
    ...(stage ? { stage } : {}),
    exitCode,
    details: details ?? {},
    ...(problems ? { problems } : {}),
  };
}
