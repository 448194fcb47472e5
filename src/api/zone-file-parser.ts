// Runs the parse of an uploaded zone file in a thread of its own (zone-file-thread.ts, through
// off-thread.ts), one job at a time: the API's event loop stays free (DNS answers and accepts go
// on during a 10 MiB upload), and memory for parsing is bounded by one upload, released when its
// thread ends.
import type { Problem } from '../store/records.js';
import type { RecordColumns } from './record-columns.js';
import { runOffThread } from './off-thread.js';
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

export type { RecordColumns } from './record-columns.js';

export type ParseResult =
  | ({ ok: true; originText: string } & RecordColumns)
  | { ok: false; kind: 'origin' | 'limit' | 'zonefile' | 'content' | 'internal'; message: string; line?: number; details?: Problem[]; code?: string };

const THREAD = new URL('./zone-file-thread.js', import.meta.url);

/** Parses and checks (zone-wide rules, apex required) a master file; throws the API's errors. */
export function parseZoneFileOffThread(job: ParseJob): Promise<RecordColumns & { originText: string }> {
  const run = runOffThread<ParseResult>(THREAD, job, 'the zone file needs more memory to parse than one upload may hold', [job.bytes.buffer as ArrayBuffer]);
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
