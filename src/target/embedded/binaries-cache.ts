import { randomBytes } from 'node:crypto';
import { chmod, cp, lstat, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { EmbeddedBinaries } from './embedded-binaries.ts';

/** Lists every entry of a cache copy; checked on each use (see `cachedBinaries`). */
const MANIFEST = '.manifest.json';
/** A half-made copy older than this belongs to a process that died while copying. */
const ABANDONED_COPY_MS = 10 * 60_000;

type Manifest = [path: string, kind: 'd' | 'f' | 'l', size: number][];

/**
 * A copy of the binaries that the server's user can reach, for when we are root: that user
 * cannot traverse a project under /root or any 0700 folder. The copy lives in `base` (a
 * root-owned folder others may enter), one per package version, and is made atomically —
 * copied under a temporary name, then renamed — so concurrent starts never see half a copy. The
 * binaries are not secret: files are made readable, programs executable, by everyone.
 *
 * A copy is checked against its manifest before use: cache and temporary folders get pruned
 * file by file (systemd-tmpfiles, disk cleaners), and an incomplete copy is replaced.
 */
export async function cachedBinaries(binaries: EmbeddedBinaries, base: string): Promise<string> {
  const name = `postgres-${binaries.version.replace(/[^\w.-]/g, '_')}-${process.platform}-${process.arch}`;
  const final = join(base, name);
  if (await isComplete(final)) return final;
  await removeAbandonedCopies(base, name);
  const temporary = join(base, `.${name}.${randomBytes(6).toString('hex')}`);
  try {
    await cp(binaries.dir, temporary, { recursive: true, verbatimSymlinks: true });
    await writeFile(join(temporary, MANIFEST), JSON.stringify(await openToAll(temporary)), { mode: 0o644 });
    await chmod(temporary, 0o755);
    try {
      await rename(temporary, final);
    } catch (error) {
      if (!['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
      if (await isComplete(final)) return final; // another start made it meanwhile
      // An incomplete copy: moved aside first, since a folder cannot be renamed over a full one.
      const stale = `${temporary}.stale`;
      await rename(final, stale);
      await rename(temporary, final);
      await rm(stale, { recursive: true, force: true });
    }
    return final;
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
}

/** Makes the tree readable (and its programs and folders enterable) by all; returns its manifest. */
async function openToAll(root: string): Promise<Manifest> {
  const manifest: Manifest = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const info = await lstat(path);
    if (entry.isSymbolicLink()) {
      manifest.push([relative(root, path), 'l', info.size]);
    } else if (entry.isDirectory()) {
      await chmod(path, 0o755);
      manifest.push([relative(root, path), 'd', 0]);
    } else {
      await chmod(path, info.mode & 0o111 ? 0o755 : 0o644);
      manifest.push([relative(root, path), 'f', info.size]);
    }
  }
  return manifest;
}

async function isComplete(dir: string): Promise<boolean> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Manifest;
  } catch {
    return false; // no copy yet, or one without a manifest
  }
  const checks = await Promise.all(
    manifest.map(async ([path, kind, size]) => {
      const info = await lstat(join(dir, path)).catch(() => undefined);
      if (!info) return false;
      if (kind === 'd') return info.isDirectory();
      return (kind === 'l' ? info.isSymbolicLink() : info.isFile()) && info.size === size;
    }),
  );
  return checks.every(Boolean);
}

async function removeAbandonedCopies(base: string, name: string): Promise<void> {
  for (const entry of await readdir(base)) {
    if (!entry.startsWith(`.${name}.`)) continue;
    const path = join(base, entry);
    const info = await lstat(path).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > ABANDONED_COPY_MS) await rm(path, { recursive: true, force: true });
  }
}
