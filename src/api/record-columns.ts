// A zone's records as columns, each a PostgreSQL array literal (text[] owners and rdatas, int[]
// types and TTLs, and for a PATCH bigint[] health-check ids): made in a parser thread, so the API's
// event loop sends a few strings to PostgreSQL (store/records.ts replaceZoneRecordColumns) instead
// of turning 5 x N values into text.
import type { StoredRecord } from '../store/records.js';

/** `checks`: the health check each record names (NULL: none), for a write that knows them all (a
 *  PATCH, from the zone's records); absent for a zone file, which names none (matching records keep theirs). */
export interface RecordColumns { count: number; owners: string; types: string; ttls: string; rdatas: string; checks?: string }

export function toColumns(records: readonly StoredRecord[], withChecks = false): RecordColumns {
  const cols: RecordColumns = { count: records.length, owners: textArray(records, 'owner'), types: intArray(records, 'type'), ttls: intArray(records, 'ttl'), rdatas: textArray(records, 'rdata') };
  if (withChecks) cols.checks = intArray(records, 'check');
  return cols;
}

/** A text[] literal: every element quoted, with `"` and `\` escaped (PostgreSQL 8.15.6). */
function textArray(records: readonly StoredRecord[], field: 'owner' | 'rdata'): string {
  let out = '{';
  for (let i = 0; i < records.length; i++) out += (i ? ',"' : '"') + records[i][field].replace(/[\\"]/g, '\\$&') + '"';
  return out + '}';
}

/** An int[] or bigint[] literal; a missing value (a record without a check) is NULL. */
function intArray(records: readonly StoredRecord[], field: 'type' | 'ttl' | 'check'): string {
  let out = '{';
  for (let i = 0; i < records.length; i++) out += (i ? ',' : '') + (records[i][field] ?? 'NULL');
  return out + '}';
}
