// A zone's records as one string, the form store/load.ts reads them in for the snapshot: sorted by
// owner, each record `owner US type US ttl US rdata`, records separated by RS (US is U+001F, RS U+001E).
// Why: node-postgres spends about 3.5 µs on each row it parses, 45 s of a million-domain load
// (13 million records); one string per zone costs a fifth of that, and compileZone (zone.ts) finds
// a node whose text it has seen in another zone in its cache without making a single record object.
// Pure.
import type { ScheduledRRset, StoredRecord } from './zone.js';
import type { OwnSource } from './includes.js';
import type { DomainRow } from './domain.js';

export const RS = '\u001e';
export const US = '\u001f';

export interface PackedRecords {
  readonly text: string;
  /** Records in `text` (the store's count: a separator inside the data would show as a mismatch). */
  readonly count: number;
  /** The largest TTL among them. */
  readonly maxTtl: number;
}

/** Whether `text` holds exactly `count` records: false when some owner or rdata holds RS (the store
 *  then reads that zone as rows). US inside rdata is harmless: rdata is the last field; an owner
 *  holding US the store finds itself (store/load.ts). */
export function packedIntact(text: string, count: number): boolean {
  let n = text.length === 0 ? 0 : 1;
  for (let i = text.indexOf(RS); i >= 0; i = text.indexOf(RS, i + 1)) n++;
  return n === count;
}

/** A copy of `s` that does not keep the string it was cut from alive. V8 makes a substring of 13
 *  characters or more a view of its parent: a label or owner cut from a zone's text and kept in the
 *  snapshot would keep the whole text. The concatenation is flattened into a new string by slice(). */
export function detach(s: string): string {
  return s.length < 13 ? s : (s + ' ').slice(0, -1);
}

/** The records of `text` from `start` to `end` (whole records). Owner and rdata are cuts of `text`:
 *  what compileZone keeps of them (node keys, name labels) it detaches. */
export function unpackRange(text: string, start: number, end: number): StoredRecord[] {
  const out: StoredRecord[] = [];
  let pos = start;
  while (pos < end) {
    let stop = text.indexOf(RS, pos);
    if (stop < 0 || stop > end) stop = end;
    const a = text.indexOf(US, pos);
    const b = text.indexOf(US, a + 1);
    const c = text.indexOf(US, b + 1);
    out.push({
      owner: text.slice(pos, a), type: Number(text.slice(a + 1, b)), ttl: Number(text.slice(b + 1, c)),
      rdata: text.slice(c + 1, stop),
    });
    pos = stop + 1;
  }
  return out;
}

export function unpack(p: PackedRecords): StoredRecord[] {
  return unpackRange(p.text, 0, p.text.length);
}

/** Domain rows packed the same way (store/load.ts readDomains: `id US zone_id US delegation_only US
 *  serial_offset US pzc_zone_id US pzc_at US name`, RS between domains) onto `out`. pzc_at is in
 *  whole seconds (a CHECK in the schema), empty when null like pzc_zone_id. */
export function unpackDomains(text: string, out: DomainRow[]): void {
  const n = text.length;
  let pos = 0;
  while (pos < n) {
    let stop = text.indexOf(RS, pos);
    if (stop < 0) stop = n;
    const a = text.indexOf(US, pos);
    const b = text.indexOf(US, a + 1);
    const c = text.indexOf(US, b + 1);
    const d = text.indexOf(US, c + 1);
    const e = text.indexOf(US, d + 1);
    const f = text.indexOf(US, e + 1);
    out.push({
      id: Number(text.slice(pos, a)), zone_id: Number(text.slice(a + 1, b)), delegation_only: text.charCodeAt(b + 1) === 0x31,
      serial_offset: Number(text.slice(c + 1, d)), pzc_zone_id: e === d + 1 ? null : Number(text.slice(d + 1, e)),
      pzc_at: f === e + 1 ? null : new Date(Number(text.slice(e + 1, f)) * 1000),
      // detach: the name stays in the snapshot, and a cut would keep the whole chunk's text.
      name: detach(text.slice(f + 1, stop)),
    });
    pos = stop + 1;
  }
}

/** A zone's data as the store hands it over with its records packed: `records` unpacks them the
 *  first time something asks (zone includes, zones with pending changes); compiling a plain zone
 *  never does. */
export class PackedZoneData {
  schedules: ScheduledRRset[] = [];
  gates?: StoredRecord[];
  included?: OwnSource[];
  private rows?: StoredRecord[];
  constructor(readonly serial: number, public packed?: PackedRecords) {}
  get records(): StoredRecord[] {
    return (this.rows ??= this.packed ? unpack(this.packed) : []);
  }
}
