// A zone's records as four columns, each a PostgreSQL array literal (text[] owners and rdatas,
// int[] types and TTLs): made in a parser thread, so the API's event loop sends four strings to
// PostgreSQL (store/records.ts replaceZoneRecordColumns) instead of turning 4 x N values into text.
import type { StoredRecord } from '../store/records.js';

export interface RecordColumns { count: number; owners: string; types: string; ttls: string; rdatas: string }

export function toColumns(records: readonly StoredRecord[]): RecordColumns {
  return { count: records.length, owners: textArray(records, 'owner'), types: intArray(records, 'type'), ttls: intArray(records, 'ttl'), rdatas: textArray(records, 'rdata') };
}

/** A text[] literal: every element quoted, with `"` and `\` escaped (PostgreSQL 8.15.6). */
function textArray(records: readonly StoredRecord[], field: 'owner' | 'rdata'): string {
  let out = '{';
  for (let i = 0; i < records.length; i++) out += (i ? ',"' : '"') + records[i][field].replace(/[\\"]/g, '\\$&') + '"';
  return out + '}';
}

function intArray(records: readonly StoredRecord[], field: 'type' | 'ttl'): string {
  let out = '{';
  for (let i = 0; i < records.length; i++) out += (i ? ',' : '') + records[i][field];
  return out + '}';
}
