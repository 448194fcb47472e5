// The zone-file parser's thread (worker_threads entry): decodes, parses and checks an uploaded
// master file off the API's event loop (which, with `serve --workers 0`, also answers DNS, and
// under --workers N hands out the TCP connections), and sends back the records as four columns.
// A thread per upload: what a 10 MiB parse allocates goes with the thread.
import { parentPort, workerData } from 'node:worker_threads';
import { zoneFileRecords, leadingOrigin, ZoneFileError } from '../zonefile/parse.js';
import { parseAbsoluteName, NameError } from '../dns/name.js';
import { checkZoneContent, ZoneContentError, type StoredRecord } from '../store/records.js';
import { toStored } from '../store/zone-file-io.js';
import type { ParseJob, ParseResult } from './zone-file-parser.js';
import { toColumns } from './record-columns.js';

function run(job: ParseJob): ParseResult {
  const text = new TextDecoder('utf-8').decode(job.bytes);
  const originText = job.origin ?? leadingOrigin(text) ?? job.fallbackOrigin;
  let apex: string[];
  try {
    apex = parseAbsoluteName(originText);
  } catch (e) {
    if (e instanceof NameError) return { ok: false, kind: 'origin', message: `origin "${originText}": ${e.message}` };
    throw e;
  }
  const records: StoredRecord[] = [];
  for (const r of zoneFileRecords(text, { origin: apex })) {
    if (records.length === job.maxRecords) {
      return { ok: false, kind: 'limit', line: r.line, message: `the zone file holds more than ${job.maxRecords} records (GLIDEPATH_ZONE_MAX_RECORDS); stopped at line ${r.line}` };
    }
    records.push(toStored([r])[0]);
  }
  checkZoneContent(records, { delegationOnly: job.delegationOnly, requireApex: true, apexWireLength: job.apexWireLength });
  // PostgreSQL array literals, made here: the API's thread then sends four strings as they are,
  // instead of turning 4 x N values into text itself.
  return { ok: true, originText, ...toColumns(records) };
}

let out: ParseResult;
try {
  out = run(workerData as ParseJob);
} catch (e) {
  if (e instanceof ZoneFileError) out = { ok: false, kind: 'zonefile', line: e.line, message: e.message };
  else if (e instanceof ZoneContentError) out = { ok: false, kind: 'content', message: e.message, details: e.details, code: e.code };
  else if (e instanceof NameError) out = { ok: false, kind: 'zonefile', line: 0, message: e.message };
  else out = { ok: false, kind: 'internal', message: (e as Error).message };
}
parentPort!.postMessage(out);
