import type { Command } from './parse-cli.ts';

const TARGET_FLAGS = `Target (embedded Postgres 16 when none is given):
  --url URL              a reachable Postgres, postgres://user:password@host:port/db
  --kind-cluster NAME    Kind cluster; kubeconfig from \`kind get kubeconfig --name NAME\`
  --kubeconfig PATH      kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
  --context NAME         kubeconfig context (default: its current-context)
  -n, --namespace NS     namespace of the Postgres Service (required for Kind)
  --service NAME         Postgres Service (default: postgresql)
  --port N               Postgres port in the pod (default: 5432)
  --secret NAME          Secret with POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB
  --ready-timeout MS     how long to wait for a Ready pod (default: 300000)
  --transport MODE       auto | nodeport | port-forward (default: auto: the Service's
                         NodePort when one answers as Postgres, else a port-forward)
  --node-address H:P     where this machine reaches the NodePort (a Kind extraPortMappings
                         host port, e.g. 127.0.0.1:25433); tried first
  --reuse                embedded: keep the server running for the next run, which finds it
                         and gets a fresh database (stops after 15 min idle, or on
                         \`e2e-migrations stop\`); ignored when CI is set
Credentials:
  --user NAME            (default: slm_user)
  --password VALUE       (default: test_password; prefer E2E_MIGRATIONS_PASSWORD)
  --database NAME        (default: action_history)`;

const SELECTION_FLAGS = `Selection:
  --tables a,b           tables (and views) needed; their dependencies come along
  --all                  every table (the default)
  --migrations DIR       Kysely or goose SQL directory (default: the shipped DS schema)
  --lock-timeout MS      how long to wait for another run's migration lock (default: 60000)
  --allow-missing        goose: apply never-applied versions below the newest applied one`;

const OUTPUT_FLAGS = `Output:
  --json                 print a machine-readable result on stdout
  -q, --quiet            no progress lines on stderr
  -h, --help             this help`;

const COMMAND_HELP: Record<Command, string> = {
  list: `e2e-migrations list [--migrations DIR] [--json]

Lists the migrations in application order with the tables each creates and its dependencies.
Needs no database.`,
  plan: `e2e-migrations plan [--tables a,b | --all] [--sql] [target flags]

What apply would do, changing nothing: the migrations the tables need, in order, why each is
needed (which table pulls it in), the monthly partitions of the window, and --sql the SQL each
sends (what its checksum covers). With --url or Kind flags it also says which are applied;
without, it answers from the migrations alone. \`apply --dry-run\` is the same.`,
  apply: `e2e-migrations apply [--tables a,b | --all] [target flags]

Applies what the tables need (only what is missing), rolls the monthly partitions, and
verifies. Partition window: --months-back N (default 1), --months-ahead N (default 3).
Skip verification with --no-verify.`,
  verify: `e2e-migrations verify [--tables a,b | --all] [target flags]

Checks that the tables exist with the expected columns and that each table partitioned by
date has a partition for today (found by its bounds). Changes nothing. Needs --url or Kind
flags. Exit 1 lists every problem.`,
  status: `e2e-migrations status [target flags]

Shows each migration: applied or pending, when, and whether its checksum still matches;
then the isolation templates and clones (isolate: 'file') on the server, with their age and
state: current (the template of these migrations and --tables), recent or stale (unused for
7 days), and for clones live, stale (their run ended) or unknown. Stale ones are pruned by
the next run that isolates.`,
  down: `e2e-migrations down [--to NAME] [target flags]

Rolls back applied migrations in reverse order: all of them, or those applied after NAME
(which stays applied).`,
  forward: `e2e-migrations forward [Kind flags]

Opens the port-forward to the Postgres pod, prints the connection URL (password masked)
and keeps it open until Ctrl-C. For debugging.`,
  stop: `e2e-migrations stop [--json]

Stops the embedded Postgres servers that --reuse keeps running between runs (yours: those of
the user running this) now, instead of after 15 minutes without a client, and removes what
they left. Says what it stopped, or that none ran; exit 0 either way.`,
  doctor: `e2e-migrations doctor [target flags] [--json]

Walks the chain a run needs and prints one line per link, with what is wrong and how to fix
it. Kind: kubeconfig and context, API server, permissions, Service, Ready pod, each transport
(NodePort, port-forward); every target: the Postgres login, the ledger (applied, pending,
changed since applied) and the partition horizon (this month to --months-ahead). Changes
nothing. Exit 0 when a run would succeed, 1 when not.`,
};

export function helpText(command?: Command): string {
  if (command === 'stop') return `${COMMAND_HELP[command]}\n\n${OUTPUT_FLAGS}\n`;
  if (command) return `${COMMAND_HELP[command]}\n\n${command === 'list' ? `${SELECTION_FLAGS}\n${OUTPUT_FLAGS}` : `${SELECTION_FLAGS}\n${TARGET_FLAGS}\n${OUTPUT_FLAGS}`}\n`;
  return `e2e-migrations — the DataStorage schema for E2E tests, from one source of truth

Usage: e2e-migrations <command> [flags]

Commands:
  list      list the migrations and the tables they create
  plan      what apply would do, and why (changes nothing)
  apply     apply what the selected tables need, then verify
  verify    check the selected tables without changing anything
  status    show which migrations are applied, and the isolation databases
  down      roll back migrations
  forward   keep a port-forward to the Kind Postgres open (debugging)
  doctor    check every link from kubeconfig to partitions, saying how to fix each
  stop      stop the embedded Postgres that --reuse keeps running

Run \`e2e-migrations <command> --help\` for its flags.
Exit codes: 0 success, 1 database/migration/verification failure, 2 usage or config error.
`;
}
