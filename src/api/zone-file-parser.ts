// Runs the parse of an uploaded zone file in a thread of its own (zone-file-thread.ts), one upload
// at a time: the API's event loop stays free (DNS answers and accepts go on during a 10 MiB
// upload), and memory for parsing is bounded by one upload, released when its thread ends.
import { Worker } from 'node:worker_threads';
import type { Problem } from '../store/records.js';
import { ZoneContentError } from '../store/records.js';
import { ZoneFileError } from '../zonefile/parse.js';
import { ApiError } from './errors.js';

export interface ParseJob {
  bytes: Uint8Array;
  /** ?origin=; else the file's leading $ORIGIN; else `fallbackOrigin`. */
  origin: string | undefined;
  fallbackOrigin: string;
  delegationOnly: boolean;
  maxRecords: number;
  /** Wire length of the longest apex serving the zone (store/records.ts longestApexWire). */
  apexWireLength: number;
}

/** Records as columns, each a PostgreSQL array literal (text[] or int[]): four strings instead of
 *  one object per record. */
export interface RecordColumns { count: number; owners: string; types: string; ttls: string; rdatas: string }

export type ParseResult =
  | ({ ok: true; originText: string } & RecordColumns)
  | { ok: false; kind: 'origin' | 'limit' | 'zonefile' | 'content' | 'internal'; message: string; line?: number; details?: Problem[]; code?: string };

const THREAD = new URL('./zone-file-thread.js', import.meta.url);
let queue: Promise<unknown> = Promise.resolve();

/** Parses and checks (zone-wide rules, apex required) a master file; throws the API's errors. */
export function parseZoneFileOffThread(job: ParseJob): Promise<RecordColumns & { originText: string }> {
  const run = queue.then(() => new Promise<ParseResult>((resolve, reject) => {
    // The thread's heap is bounded (issue 14 item 7: what one request may hold). A small young
    // generation keeps the peak RSS of a 10 MiB upload near the data itself: V8's default (larger
    // on Node 24 than on 22) let it grow by another 100 MB of semi-spaces.
    const w = new Worker(THREAD, { workerData: job, transferList: [job.bytes.buffer as ArrayBuffer],
      resourceLimits: { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 1024 } });
    w.once('message', (m: ParseResult) => resolve(m));
    w.once('error', (err: Error & { code?: string }) => reject(err.code === 'ERR_WORKER_OUT_OF_MEMORY'
      ? new ApiError(413, 'the zone file needs more memory to parse than one upload may hold', [{ path: 'body', problem: 'over the parser\'s memory limit' }], 'payload_too_large')
      : err));
    w.once('exit', (code) => reject(new Error(`zone file parser exited (${code})`)));
  }));
  queue = run.catch(() => undefined);
  return run.then((r) => {
    if (r.ok) return r;
    switch (r.kind) {
      case 'origin': throw new ApiError(422, r.message, [{ path: 'origin', problem: r.message }]);
      case 'limit': throw new ApiError(422, r.message, [{ path: `line ${r.line ?? 0}`, problem: 'record limit reached' }], 'too_many_records');
      case 'zonefile': throw new ZoneFileError(r.line ?? 0, r.message);
      case 'content': throw new ZoneContentError(r.details ?? [], r.code);
      default: throw new Error(r.message);
    }
  });
}
