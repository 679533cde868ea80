import type { EmbeddedConfig, ResolvedConfig } from '../config/resolve-config.ts';
import type { Reporter, StageProgress, StageRunner } from '../report/reporter.ts';
import type { TeardownStack } from '../teardown/teardown-stack.ts';
import type { EmbeddedServer } from './embedded/embedded-server.ts';
import type { StartedTarget } from './target.ts';

/** What a target needs from the session that starts it. */
export interface TargetContext {
  /** Runs a reported stage (`target`, or `cluster` and `forward` for Kind). */
  readonly stage: StageRunner;
  /** Everything the target opens goes here the moment it opens. */
  readonly stack: TeardownStack;
  /** For the secrets a target learns (a Secret's password) and for warnings. */
  readonly reporter: Reporter;
  /** Aborted when the session closes: a start in progress stops and cleans up. */
  readonly signal: AbortSignal;
  /** Embedded: join the server this process runs for its other sessions (a runner's projects). */
  readonly shareServer: boolean;
}

/**
 * Starts the configured target, puts it on the stack, and returns it reachable. Each kind is
 * imported only when chosen: the URL and embedded targets never load client-node.
 */
export async function openTarget(config: ResolvedConfig, context: TargetContext): Promise<StartedTarget> {
  switch (config.target) {
    case 'kind': {
      const { startKindTarget } = await import('./kind/kind-target.ts');
      return startKindTarget(config, context);
    }
    case 'url': {
      const { urlTarget } = await import('./url/url-target.ts');
      return context.stage('target', async (progress) => {
        const target = context.stack.use('url target', urlTarget(config));
        progress.done(`url: ${target.description}`);
        return target;
      });
    }
    case 'embedded': {
      if (config.reuseIgnored) context.reporter.info(`reuse: ignored, ${config.reuseIgnored}: this run starts a server of its own and stops it at the end`);
      if (config.reuse || context.shareServer) {
        const { embeddedDatabase } = await import('./embedded/embedded-database.ts');
        return context.stage('target', async (progress) => {
          const held = config.reuse ? await holdReusedServer(config, context, progress) : await holdSharedServer(config, context, progress);
          const target = context.stack.use('embedded database', embeddedDatabase(held.server, { database: config.database, shareDatabase: held.shareDatabase, how: held.how }));
          progress.done(`embedded: ${target.description}`);
          return target;
        });
      }
      const { startEmbeddedTarget } = await import('./embedded/embedded-target.ts');
      return context.stage('target', async (progress) => {
        progress.waitingFor('the embedded Postgres 16 to start');
        const target = await startEmbeddedTarget({ user: config.user, password: config.password, database: config.database, signal: context.signal });
        context.stack.use(target.description, target);
        progress.done(`embedded: ${target.description}`);
        return target;
      });
    }
  }
}

/** A server held for a session's own database: its hold, how it was come by, and whether `database` is shared. */
interface HeldServer {
  readonly server: EmbeddedServer;
  readonly how: string;
  readonly shareDatabase: boolean;
}

/** `reuse`: the server kept between runs (found, or started to be kept). */
async function holdReusedServer(config: EmbeddedConfig, context: TargetContext, progress: StageProgress): Promise<HeldServer> {
  const { acquireReusedServer } = await import('./embedded/reused-server.ts');
  progress.waitingFor('the reused embedded Postgres 16 (reuse: true)');
  const server = await acquireReusedServer({ user: config.user, password: config.password, signal: context.signal, onWait: (what) => progress.waitingFor(what) });
  const how = server.started ? `started to be reused, stops after ${Math.round(server.idleTimeoutMs / 60_000)} min idle` : 'reused';
  return { server, how, shareDatabase: false };
}

/** A runner with several projects: the server this process runs for all of them. */
async function holdSharedServer(config: EmbeddedConfig, context: TargetContext, progress: StageProgress): Promise<HeldServer> {
  const { acquireSharedServer } = await import('./embedded/shared-server.ts');
  progress.waitingFor('the embedded Postgres 16 this run shares to start');
  const server = await acquireSharedServer({ user: config.user, password: config.password, signal: context.signal });
  return { server, how: server.started ? 'started for this run' : "shared with this run's other projects", shareDatabase: config.shareDatabase };
}
