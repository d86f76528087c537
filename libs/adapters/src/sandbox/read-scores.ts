import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

export const SCORES_FILE = 'scores.json';
export const MAX_SCORES_BYTES = 2 ** 20;

/** The text of scores.json (null: the scorer wrote none), or why it cannot be taken. */
export type ScoresFile = { json: string | null } | { problem: string };

/**
 * Reads what a scorer wrote without following a link and only from a regular file of at most
 * `maxBytes`: the scorer ran on untrusted predictions, and the worker reading is root.
 */
export async function readScoresFile(file: string, maxBytes = MAX_SCORES_BYTES): Promise<ScoresFile> {
  let handle;
  try {
    // Non-blocking: a fifo would otherwise hang the open.
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { json: null };
    if (code === 'ELOOP') return { problem: `${SCORES_FILE} is a symbolic link, not a regular file` };
    return { problem: `${SCORES_FILE} could not be opened (${code})` };
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return { problem: `${SCORES_FILE} is not a regular file` };
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) return { problem: `${SCORES_FILE} is larger than ${maxBytes} bytes` };
    }
    return { json: buffer.subarray(0, length).toString('utf8') };
  } finally {
    await handle.close();
  }
}
