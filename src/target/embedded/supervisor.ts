import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { serverSpawnOptions } from './run-as.ts';
import { STOP_GRACE_MS } from './stop-server.ts';
import { within } from './within.ts';
import type { RunDirectory } from './run-directory.ts';

/**
 * Runs initdb or postgres so that it cannot outlive us, whatever ends our process.
 *
 * Postgres has no "exit with your parent" switch, and no handler runs on SIGKILL or a crash,
 * so the child is started under a small `/bin/sh` supervisor whose stdin — the lifeline — is a
 * pipe whose writing end only our process holds. The kernel closes that end when our process
 * ends, for any reason; the supervisor reads it to end-of-file, then stops the child (SIGINT:
 * fast shutdown; SIGKILL after the grace period) and deletes the run directory. `stop()` closes
 * the lifeline on purpose, so a normal close takes the same path. A watchdog polling our pid
 * would be the alternative, but it notices late and can be fooled by pid reuse; a pipe cannot.
 *
 * The supervisor runs as the server's user (it is the child's parent, so it can wait for it),
 * in its own session, so a Ctrl-C in the terminal reaches only us: we decide how the server
 * stops. When the child exits on its own, the supervisor exits with its status and leaves the
 * directory to us. The script is fixed text; the run directory, the grace period and the
 * child's command line are its positional parameters.
 */
const SCRIPT = `
run_dir=$1
grace=$2
shift 2
exec 3<&0 </dev/null
"$@" 3<&- >&2 &
child=$!
lost=
signalled=
trap 'lost=1 signalled=1' USR1 HUP INT TERM
(
  while read -r _; do :; done <&3
  kill -USR1 $$
) >/dev/null 2>&1 &
watcher=$!
exec 3<&-
killer=
while :; do
  signalled=
  wait "$child"
  status=$?
  [ -n "$signalled" ] || break
  if [ -z "$killer" ]; then
    kill -INT "$child" 2>/dev/null
    (
      trap 'kill "$sleeper"; wait "$sleeper"; exit' ALRM
      sleep "$grace" & sleeper=$!
      wait "$sleeper" && kill -KILL "$child"
    ) >/dev/null 2>&1 &
    killer=$!
  fi
done
kill -KILL "$watcher" 2>/dev/null
[ -z "$killer" ] || kill -ALRM "$killer" 2>/dev/null
wait
if [ -n "$lost" ]; then rm -rf -- "$run_dir"; fi
exit "$status"
`;

/** Extra time, beyond the grace period, that `stop()` gives the supervisor before killing it. */
const STOP_MARGIN_MS = 5_000;
/** How long `output()` waits for the last lines after the exit. */
const OUTPUT_WAIT_MS = 1_000;
/** Lines of output kept for error messages. */
const TAIL_LINES = 20;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the supervisor could not be started at all. */
  readonly error?: Error;
}

export interface Supervised {
  /** Settles when the supervisor has exited: the child is gone (and, after `stop()`, the directory). */
  readonly exited: Promise<Exit>;
  /** The child's last lines of output (stdout and stderr), for error messages; complete once it exited. */
  output(): Promise<string>;
  /** Closes the lifeline and waits for the supervisor; idempotent. */
  stop(): Promise<void>;
}

export interface SuperviseOptions {
  readonly run: RunDirectory;
  /** Each line the child prints. */
  readonly onLine: (line: string) => void;
}

/** Starts `program args…` under a supervisor (see above). */
export function supervise(program: string, args: readonly string[], options: SuperviseOptions): Supervised {
  const graceSeconds = String(Math.ceil(STOP_GRACE_MS / 1000));
  const child = spawn('/bin/sh', ['-c', SCRIPT, 'e2e-migrations-supervisor', options.run.path, graceSeconds, program, ...args], {
    ...serverSpawnOptions(options.run.user),
    detached: true,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  const lines: string[] = [];
  const reader = createInterface({ input: child.stderr!, crlfDelay: Infinity });
  reader.on('line', (line) => {
    lines.push(line);
    if (lines.length > TAIL_LINES) lines.shift();
    options.onLine(line);
  });
  const drained = new Promise<void>((resolve) => reader.once('close', resolve));
  // Writing never happens; ending the pipe of a supervisor that is already gone raises EPIPE,
  // and a gone supervisor is what ending it asks for.
  child.stdin!.on('error', () => {});
  const exited = new Promise<Exit>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    child.stdin!.end();
    if (await within(exited, STOP_GRACE_MS + STOP_MARGIN_MS)) return;
    // The supervisor is stuck (it never should be): kill it; the caller then stops what it left.
    child.kill('SIGKILL');
    await exited;
  };
  return {
    exited,
    // Output can still be in the pipe when the exit is reported; a grandchild holding the pipe
    // open must not hold up an error message, hence the bound.
    output: async () => {
      await within(drained, OUTPUT_WAIT_MS);
      return lines.join('\n');
    },
    stop: () => (stopping ??= stop()),
  };
}
