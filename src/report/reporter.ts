import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import { redact } from './redact.ts';

/** The stages of a run, in data-flow order. */
export type StageName = 'target' | 'cluster' | 'forward' | 'migrate' | 'verify' | 'provide' | 'teardown';

export interface StageRecord {
  readonly stage: StageName;
  readonly ok: boolean;
  readonly ms: number;
  readonly detail: string;
}

/** Handed to a stage's body so it can say what it is doing or waiting for. */
export interface StageProgress {
  /** Says what the stage waits for; repeated calls with the same text print once. */
  waitingFor(what: string): void;
  /** Sets the one-line summary printed when the stage ends. */
  done(detail: string): void;
  /** Prints a line of the stage's own (what it is doing now), e.g. a slow migration. */
  note(text: string): void;
}

/** Runs a body as a reported stage; what sessions hand to targets and steps. */
export type StageRunner = <T>(stage: StageName, body: (progress: StageProgress) => Promise<T>) => Promise<T>;

/** Where progress lines go. Anything with `write(line)` works: a stream, a test collector. */
export interface LogSink {
  write(chunk: string): unknown;
}

export interface ReporterOptions {
  /** Where lines go; `false` silences. @default process.stderr */
  readonly sink?: LogSink | Writable | false;
  /** Values never to print (passwords). More can be added with `addSecret`. */
  readonly secrets?: readonly string[];
  /** Prefix of every line. @default '[e2e-migrations]' */
  readonly prefix?: string;
}

export const DEFAULT_PREFIX = '[e2e-migrations]';

/**
 * Prints one line when a stage starts waiting and one when it ends, with its time, and keeps
 * a record of each stage for reports. Every line passes through `redact`. It records what
 * failed and leaves the error as it is: giving errors their stage is the session's job.
 */
export class Reporter {
  readonly #sink: LogSink | false;
  readonly #secrets: Set<string>;
  readonly #prefix: string;
  readonly #records: StageRecord[] = [];

  constructor(options: ReporterOptions = {}) {
    this.#sink = options.sink === undefined ? process.stderr : options.sink;
    this.#secrets = new Set(options.secrets ?? []);
    this.#prefix = options.prefix ?? DEFAULT_PREFIX;
  }

  /** Stage results so far, in order. */
  get records(): readonly StageRecord[] {
    return this.#records;
  }

  /** The stage that failed last, if any. */
  get failedStage(): StageName | undefined {
    return this.#records.findLast((record) => !record.ok)?.stage;
  }

  addSecret(secret: string | undefined): void {
    if (secret) this.#secrets.add(secret);
  }

  line(text: string): void {
    if (this.#sink === false) return;
    this.#sink.write(`${redact(`${this.#prefix} ${text}`, this.#secrets)}\n`);
  }

  info(text: string): void {
    this.line(text);
  }

  warn(text: string): void {
    this.line(`warning: ${text}`);
  }

  async stage<T>(stage: StageName, body: (progress: StageProgress) => Promise<T>): Promise<T> {
    const started = performance.now();
    let detail = '';
    let lastWait = '';
    const progress: StageProgress = {
      waitingFor: (what) => {
        if (what === lastWait) return;
        lastWait = what;
        this.line(`${stage.padEnd(8)} waiting for ${what}`);
      },
      done: (text) => {
        detail = text;
      },
      note: (text) => this.line(`${stage.padEnd(8)} ${text}`),
    };
    try {
      const result = await body(progress);
      this.#finish(stage, true, started, detail);
      return result;
    } catch (error) {
      // One line: a message that goes on (verification's list) keeps its first item, so the line
      // says what is wrong instead of ending in a colon.
      const lines = (error instanceof Error ? error.message : String(error)).split('\n').map((line) => line.trim()).filter(Boolean);
      const message = lines.length > 1 ? `${lines[0]} ${lines[1]}${lines.length > 2 ? ' …' : ''}` : (lines[0] ?? '');
      this.#finish(stage, false, started, message);
      throw error;
    }
  }

  #finish(stage: StageName, ok: boolean, started: number, detail: string): void {
    const ms = Math.round(performance.now() - started);
    this.#records.push(Object.freeze({ stage, ok, ms, detail: redact(detail, this.#secrets) }));
    this.line(`${stage.padEnd(8)} ${ok ? 'ok    ' : 'FAILED'} ${`${ms} ms`.padStart(8)}  ${detail}`);
  }
}
