import { lstatSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cachedBinaries } from '../../../src/target/embedded/binaries-cache.ts';
import { ensureEmbeddedBinaries } from '../../../src/target/embedded/embedded-binaries.ts';

/*
 * As root the server's user runs a copy of the binaries kept outside the project. The copy must
 * be usable by everyone, made once however many starts race for it, and replaced when a
 * temporary-files cleaner has taken parts of it.
 */
describe('the binaries copy for the server user', () => {
  const bases: string[] = [];
  afterAll(async () => {
    for (const base of bases) await rm(base, { recursive: true, force: true });
  });
  const freshBase = async () => {
    const base = await mkdtemp(join(tmpdir(), 'e2e-embedded-cache-'));
    bases.push(base);
    return base;
  };

  it('is one complete copy, readable by all, however many starts make it at once', async () => {
    const binaries = await ensureEmbeddedBinaries();
    const base = await freshBase();
    const made = await Promise.all([1, 2].map(() => cachedBinaries(binaries, base)));
    expect(new Set(made).size).toBe(1);
    expect(readdirSync(base)).toEqual([made[0]!.slice(base.length + 1)]); // no half-made copies left
    expect(made[0]).toContain(binaries.version);

    for (const entry of readdirSync(made[0]!, { recursive: true, withFileTypes: true })) {
      const info = lstatSync(join(entry.parentPath, entry.name));
      if (entry.isSymbolicLink()) continue;
      expect(info.mode & 0o444, `${entry.name} readable by all`).toBe(0o444);
      if (entry.isDirectory() || entry.parentPath.endsWith('/bin')) expect(info.mode & 0o111, `${entry.name} enterable/executable by all`).toBe(0o111);
      expect(info.mode & 0o022, `${entry.name} writable by its owner only`).toBe(0);
    }
  });

  it('is replaced when a file of it has gone', async () => {
    const binaries = await ensureEmbeddedBinaries();
    const base = await freshBase();
    const copy = await cachedBinaries(binaries, base);
    const lib = join(copy, 'lib', readdirSync(join(copy, 'lib')).find((name) => name.startsWith('libicudata'))!);
    await unlink(lib);
    expect(await cachedBinaries(binaries, base)).toBe(copy);
    expect(lstatSync(lib).isFile() || lstatSync(lib).isSymbolicLink()).toBe(true);
    expect(readdirSync(base)).toEqual([copy.slice(base.length + 1)]);
  });
});
