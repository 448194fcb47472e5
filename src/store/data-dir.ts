// The data directory (GLIDEPATH_DATA_DIR): made one level at a time, so that a parent which cannot
// hold directories fails at once with one line. Node's mkdir({ recursive: true }) loops forever at
// 100 % CPU on a parent such as /proc (mkdir says ENOENT, the parent "exists", it tries again).
import { mkdir, access, constants } from 'node:fs/promises';
import { resolve, sep } from 'node:path';

export class DataDirError extends Error {}

/** Creates `dir` (and its missing parents) and checks it is writable; a DataDirError naming it
 *  otherwise. */
export async function makeDataDir(dir: string): Promise<void> {
  const abs = resolve(dir);
  const parts = abs.split(sep).filter((p) => p !== '');
  try {
    let path = '';
    for (const p of parts) {
      path += sep + p;
      try {
        await mkdir(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    await access(abs, constants.W_OK);
  } catch (err) {
    throw new DataDirError(`data directory ${dir} is not writable: ${(err as Error).message}`);
  }
}
