import type { StageProgress } from '../report/reporter.ts';
import type { Session } from '../session/session.ts';
import { dropClones } from './clone.ts';
import { clonePrefix } from './clone-names.ts';
import { DatabaseLeases, type LeaseSizing, type LeaseSummary } from './database-leases.ts';
import { pruneIsolation } from './prune-isolation.ts';
import { sessionTemplateName, type TemplateResult } from './template.ts';

/** Without a size from the runner: a few ready before the first files ask. */
export const DEFAULT_LEASE_SIZING: LeaseSizing = Object.freeze({ ahead: 2 });

export interface FileIsolation {
  readonly template: TemplateResult;
  /** Every database of this run starts with it; teardown drops them. */
  readonly prefix: string;
  /** Where the workers lease their databases (E2E_MIGRATIONS_LEASES): holds the run's token, not for logs. */
  readonly leases: string;
  /** For the provide stage's line: the template, the leases, what was pruned. */
  readonly summary: string;
}

/**
 * `isolate: 'file'` at global setup, inside the provide stage: prunes what dead runs and
 * unused templates left on the server, makes sure the template exists, and starts leasing
 * copies of it to the test files (database-leases.ts: copies made ahead in the background,
 * each put back after its file for the next). Teardown, on the session's stack: stop leasing,
 * then drop every database under the run's prefix.
 */
export async function startFileIsolation(session: Session, progress: StageProgress, sizing: () => LeaseSizing | Promise<LeaseSizing> = () => DEFAULT_LEASE_SIZING): Promise<FileIsolation> {
  const admin = await session.connect();
  const pruned = await pruneIsolation(admin.client, { current: sessionTemplateName(session) });
  for (const failure of pruned.failures) progress.note(`could not prune ${failure}`);

  progress.waitingFor('the template database (isolate: file)');
  const template = await session.template();
  const prefix = clonePrefix(template.name);
  // Every party takes the template's lock in one database: the server's admin database when the
  // target's own database is a copy itself (ensureTemplate locks there), else the target's.
  const { provision } = session.target;
  const connection = provision ? { ...session.target.connection, database: provision.adminDatabase } : session.target.connection;
  const leases = await DatabaseLeases.start(connection, template.name, prefix, Promise.resolve().then(sizing));
  // Registered at once: no copy is left being made after the session closes.
  // A server that outlives the run keeps a few reset clones as spares: the next run's first
  // files then take a database by a rename instead of waiting for a copy.
  const outlivesRun = session.target.kind !== 'embedded' || ('reuse' in session.config && session.config.reuse);
  session.stack.defer(`clones ${prefix}*`, async () => {
    const summary = await leases.stop({ keepSpares: outlivesRun, dropRun: true });
    const dropped = summary.dropped ?? (await dropClones(connection, prefix));
    if (summary.leased > 0 || summary.error) session.reporter.info(`leases: ${describeLeases(summary)}`);
    // Every clone the run made is gone: these now, the others when their file left them changed.
    const clones = Math.max(summary.made - summary.kept, dropped.length);
    session.noteTeardown(`dropped ${clones} clone${clones === 1 ? '' : 's'} of ${template.name}${summary.kept ? ` (${summary.kept} kept as spare${summary.kept === 1 ? '' : 's'})` : ''}`);
  });

  const phrases = [
    ...(pruned.clones.length ? [`${pruned.clones.length} clone${pruned.clones.length === 1 ? '' : 's'} of ended runs`] : []),
    ...(pruned.templates.length ? [`${pruned.templates.length} unused template${pruned.templates.length === 1 ? '' : 's'} (${pruned.templates.join(', ')})`] : []),
  ];
  return Object.freeze({
    template,
    prefix,
    leases: leases.address,
    summary:
      `template ${template.name} ${template.built ? 'built' : 'reused'}, a clone per test file (leased, and reset after each file for the next)` +
      (phrases.length ? `; pruned ${phrases.join(' and ')}` : ''),
  });
}

/** "12 test files in 3 clones (9 reset and reused, 0 dropped for schema changes)", or why each file had a clone of its own. */
export function describeLeases(summary: LeaseSummary): string {
  const files = `${summary.leased} test file${summary.leased === 1 ? '' : 's'} in ${summary.made} clone${summary.made === 1 ? '' : 's'}`;
  const how = summary.singleUse
    ? ` (a fresh clone each: ${summary.singleUse})`
    : ` (${summary.recycled} reset and reused${summary.discarded ? `, ${summary.discarded} not: ${summary.changes.join(', ')}` : ''})`;
  const spares = [
    ...(summary.fromSpares ? [`${summary.fromSpares} taken from spares`] : []),
    ...(summary.kept ? [`${summary.kept} kept as spare${summary.kept === 1 ? '' : 's'} for the next run`] : []),
  ];
  return files + how + (spares.length ? `; ${spares.join(', ')}` : '') + (summary.error ? `; copying stopped: ${summary.error}` : '');
}
