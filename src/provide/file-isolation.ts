import type { StageProgress } from '../report/reporter.ts';
import type { Session } from '../session/session.ts';
import { dropClones } from './clone.ts';
import { clonePrefix, parseIsolationName } from './clone-names.ts';
import { ClonePool, type PoolSize } from './clone-pool.ts';
import { thisProcess } from './database-record.ts';
import { pruneIsolation } from './prune-isolation.ts';
import { sessionTemplateName, type TemplateResult } from './template.ts';

/** Without a size from the runner: a few ready at a time, for as long as the run lasts. */
export const DEFAULT_POOL_SIZE: PoolSize = Object.freeze({ ahead: 4 });

export interface FileIsolation {
  readonly template: TemplateResult;
  /** Every database of this run (clones, pool) starts with it; teardown drops them. */
  readonly prefix: string;
  /** This process, as the run's owner (JSON): recorded on every clone of the run, also those the workers make. */
  readonly runOwner: string;
  /** Where copies are claimed and made, when not the target's database (see ProvidedDatabase). */
  readonly database: string | undefined;
  /** For the provide stage's line: the template, the pool, what was pruned. */
  readonly summary: string;
  /** Watch mode, before a rerun: stops the pool and drops the last run's databases; returns how many clones there were. */
  rerun(): Promise<number>;
}

/**
 * `isolate: 'file'` at global setup, inside the provide stage: prunes what dead runs and
 * unused templates left on the server, makes sure the template exists, starts filling the
 * run's pool of clones in the background (not waited for), and puts the teardown on the
 * session's stack: stop the pool, then drop every database under the run's prefix.
 */
export async function startFileIsolation(session: Session, progress: StageProgress, poolSize: () => PoolSize | Promise<PoolSize> = () => DEFAULT_POOL_SIZE): Promise<FileIsolation> {
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
  let pool: ClonePool | undefined = ClonePool.start(connection, template.name, prefix, Promise.resolve().then(poolSize));
  // Registered at once: a pool is never left filling after the session closes.
  session.stack.defer(`clones ${prefix}*`, async () => {
    const summary = await pool?.stop();
    pool = undefined;
    const dropped = await dropClones(connection, prefix);
    const clones = dropped.filter((name) => parseIsolationName(name)?.kind === 'clone').length;
    if (summary && summary.made > 0) {
      // A line of its own: the teardown line keeps its one shape ("dropped N clones of …; closed …").
      const unused = dropped.length - clones;
      session.reporter.info(`pool: ${summary.claimed} of ${summary.made} prepared claimed${unused ? `, ${unused} unused dropped` : ''}${summary.error ? ` (filling stopped: ${summary.error})` : ''}`);
    }
    session.noteTeardown(`dropped ${clones} clone${clones === 1 ? '' : 's'} of ${template.name}`);
  });

  const phrases = [
    ...(pruned.clones.length ? [`${pruned.clones.length} clone${pruned.clones.length === 1 ? '' : 's'} of ended runs`] : []),
    ...(pruned.templates.length ? [`${pruned.templates.length} unused template${pruned.templates.length === 1 ? '' : 's'} (${pruned.templates.join(', ')})`] : []),
  ];
  return Object.freeze({
    template,
    prefix,
    runOwner: JSON.stringify(await thisProcess()),
    database: provision?.adminDatabase,
    summary:
      `template ${template.name} ${template.built ? 'built' : 'reused'}, a clone per test file (from a pool filled in the background)` +
      (phrases.length ? `; pruned ${phrases.join(' and ')}` : ''),
    async rerun() {
      await pool?.stop();
      pool = undefined;
      const dropped = await dropClones(connection, prefix);
      return dropped.filter((name) => parseIsolationName(name)?.kind === 'clone').length;
    },
  });
}
