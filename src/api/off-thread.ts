// Heavy request work (a zone file's parse, a large RRset batch) in a worker thread of its own, one
// job at a time: the API's event loop stays free (under `serve --workers 0` it also answers DNS,
// under --workers N it hands out TCP connections), and what a job allocates goes with its thread.
import * as threads from 'node:worker_threads';
import { Worker } from 'node:worker_threads';
import { ApiError } from './errors.js';

let queue: Promise<unknown> = Promise.resolve();

/** Whether Node refuses to move this memory to another thread (worker_threads, Node >= 21; on
 *  Node 20 nothing is marked). */
export function isMarkedAsUntransferable(o: object): boolean {
  const f = (threads as { isMarkedAsUntransferable?: (x: object) => boolean }).isMarkedAsUntransferable;
  return f ? f(o) : false;
}

/** Runs the thread `entry` on `data` (its workerData) after the jobs before it; resolves with the
 *  one message it posts. `outOfMemory`: the message of the 413 sent when the thread's heap is full. */
export function runOffThread<T>(entry: URL, data: unknown, outOfMemory: string, transferList: ArrayBuffer[] = []): Promise<T> {
  const run = queue.then(() => new Promise<T>((resolve, reject) => {
    // The thread's heap is bounded (issue 14 item 7: what one request may hold). A small young
    // generation keeps the peak RSS of a 10 MiB upload near the data itself: V8's default (larger
    // on Node 24 than on 22) let it grow by another 100 MB of semi-spaces.
    const w = new Worker(entry, { workerData: data, transferList,
      resourceLimits: { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 1024 } });
    w.once('message', (m: T) => resolve(m));
    w.once('error', (err: Error & { code?: string }) => reject(err.code === 'ERR_WORKER_OUT_OF_MEMORY'
      ? new ApiError(413, outOfMemory, [{ path: 'body', problem: 'over the parser\'s memory limit' }], 'payload_too_large')
      : err));
    w.once('exit', (code) => reject(new Error(`${entry.pathname.split('/').pop()}: thread exited (${code})`)));
  }));
  queue = run.catch(() => undefined);
  return run;
}
