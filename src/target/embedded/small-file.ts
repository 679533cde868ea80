import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

const MAX_BYTES = 4096;

/**
 * Reads a small text file that another user may control (a run directory belongs to the
 * server's user): a symlink, a FIFO or a huge file there is treated as absent instead of
 * being followed, blocking or filling memory. Returns undefined when there is no such file.
 */
export async function readSmallFile(path: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined; // missing, a symlink, or unreadable: all mean "no record here"
  }
  try {
    if (!(await handle.stat()).isFile()) return undefined;
    const buffer = Buffer.alloc(MAX_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, MAX_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}
