// DATA_DIR/glidepath.pid: the pid of `serve`'s primary, for `kill -HUP` and `kill -USR2` (after
// `npm start` the pid an operator sees is npm's, and a signal there kills npm, not the server).
import { readFile, writeFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';

/** The primary's pid, logged and written to DATA_DIR/glidepath.pid for `kill -HUP` (the pid of
 *  `npm start` is npm's). Removed at a clean stop, only while it is still ours. */
export async function writePidFile(dataDir: string, log: Logger): Promise<{ remove(): Promise<void> }> {
  const file = join(dataDir, 'glidepath.pid');
  await writeFile(file, `${process.pid}\n`);
  log.info({ pid: process.pid, pidFile: file }, 'serving; primary pid written');
  return {
    async remove() {
      const now = await readFile(file, 'utf8').catch(() => '');
      if (now.trim() === String(process.pid)) await unlink(file).catch(() => undefined);
    },
  };
}

