// The rrsets of a PATCH (and of a zone create) as PowerDNS reads them (pdns ws-auth.cc
// patchZone): changetype upper-cased; REPLACE with `records` replaces the set (`[]` deletes it,
// `ttl` required otherwise), without `records` but with `comments` changes nothing we store;
// DELETE ignores ttl, records and comments; EXTEND adds records, PRUNE removes them (Auth 5.1).
// Changes apply in order, and a CNAME beside other data is refused at the step that makes it, so
// octoDNS's DELETE-then-REPLACE works.
import { typeCode, isMetaType, TYPE } from '../../../dns/constants.js';
import { MAX_TTL, type StoredRecord } from '../../../store/records.js';
import { contentToStored, ownerOf, ContentError } from './names.js';
import { invalid } from './errors.js';

export type ChangeType = 'REPLACE' | 'DELETE' | 'EXTEND' | 'PRUNE';

export interface RRsetChange {
  changetype: ChangeType;
  owner: string;
  type: number;
  /** Absolute name and type as sent, for messages. */
  label: string;
  ttl: number | undefined;
  /** Stored form; undefined when the change carries no `records`. */
  records: StoredRecord[] | undefined;
}

const CHANGETYPES = new Set<string>(['REPLACE', 'DELETE', 'EXTEND', 'PRUNE']);

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates the `rrsets` array; `create` ignores changetype (a zone create has none to honour). */
export function parseRRsets(raw: unknown, apex: readonly string[], o: { create: boolean }): RRsetChange[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalid('"rrsets" must be an array');
  const out: RRsetChange[] = [];
  const seen = new Set<string>();
  raw.forEach((s: unknown, i) => {
    if (!isObj(s)) throw invalid(`rrsets[${i}] must be an object`);
    const name = s.name;
    const typeText = s.type;
    if (typeof name !== 'string') throw invalid(`rrsets[${i}]: "name" must be a string`);
    if (typeof typeText !== 'string') throw invalid(`rrsets[${i}]: "type" must be a string`);
    const label = `${name}/${typeText}`;
    let changetype: ChangeType = 'REPLACE';
    if (!o.create) {
      const ct = typeof s.changetype === 'string' ? s.changetype.toUpperCase() : undefined;
      if (!ct || !CHANGETYPES.has(ct)) throw invalid(`RRset ${label}: changetype "${String(s.changetype)}" is not one of REPLACE, DELETE, EXTEND, PRUNE`, 'unknown_changetype');
      changetype = ct as ChangeType;
    }
    const owner = ownerOf(name, apex);
    const type = typeCode(typeText);
    if (type === undefined || isMetaType(type)) throw invalid(`RRset ${label}: unknown or unsupported record type "${typeText}"`, 'unknown_type');
    const key = `${owner}\u0000${type}`;
    // pdns: "Duplicate RRset" when one request changes a set twice.
    if (seen.has(key)) throw invalid(`Duplicate RRset ${label} in one request`, 'duplicate_rrset');
    seen.add(key);
    if (changetype === 'DELETE') { out.push({ changetype, owner, type, label, ttl: undefined, records: undefined }); return; }
    const recs = s.records;
    if (recs !== undefined && recs !== null && !Array.isArray(recs)) throw invalid(`RRset ${label}: "records" must be an array`);
    const hasRecords = Array.isArray(recs);
    if (!hasRecords && (s.comments === undefined || s.comments === null) && changetype === 'REPLACE' && !o.create) {
      throw invalid(`RRset ${label}: REPLACE needs "records" or "comments"`);
    }
    let ttl: number | undefined;
    if (s.ttl !== undefined && s.ttl !== null) {
      if (typeof s.ttl !== 'number' || !Number.isInteger(s.ttl) || s.ttl < 0 || s.ttl > MAX_TTL) throw invalid(`RRset ${label}: "ttl" must be a whole number from 0 to ${MAX_TTL}`);
      ttl = s.ttl;
    }
    let records: StoredRecord[] | undefined;
    if (hasRecords) {
      const list = recs as unknown[];
      if (list.length && ttl === undefined && changetype !== 'PRUNE') throw invalid(`RRset ${label}: "ttl" is required with records`);
      const byRdata = new Map<string, StoredRecord>();
      list.forEach((r, j) => {
        if (!isObj(r) || typeof r.content !== 'string') throw invalid(`RRset ${label}: records[${j}] needs a string "content"`);
        if (r.disabled === true) throw invalid(`RRset ${label}: records[${j}] is disabled; Glidepath serves every record it stores, so disabled records are not accepted`, 'disabled_record');
        try {
          const rdata = contentToStored(type, r.content, apex);
          byRdata.set(rdata, { owner, type, ttl: ttl ?? 0, rdata });
        } catch (e) {
          if (e instanceof ContentError) throw invalid(`RRset ${label}: ${e.message}`, 'invalid_content');
          throw e;
        }
      });
      records = [...byRdata.values()];
    }
    out.push({ changetype, owner, type, label, ttl, records });
  });
  return out;
}

const sameSet = (r: StoredRecord, c: { owner: string; type: number }) => r.owner === c.owner && r.type === c.type;

/** The zone's records after the changes, in order; throws 422 for a CNAME beside other data. */
export function applyChanges(current: readonly StoredRecord[], changes: readonly RRsetChange[]): StoredRecord[] {
  let rs = [...current];
  for (const c of changes) {
    const old = rs.filter((r) => sameSet(r, c));
    const rest = rs.filter((r) => !sameSet(r, c));
    let next: StoredRecord[];
    switch (c.changetype) {
      case 'DELETE': next = []; break;
      case 'REPLACE': next = c.records === undefined ? old : c.records; break;
      case 'EXTEND': {
        const ttl = c.ttl ?? old[0]?.ttl ?? 0;
        const have = new Set(old.map((r) => r.rdata));
        next = [...old.map((r) => ({ ...r, ttl })), ...(c.records ?? []).filter((r) => !have.has(r.rdata)).map((r) => ({ ...r, ttl }))];
        break;
      }
      case 'PRUNE': {
        const drop = new Set((c.records ?? []).map((r) => r.rdata));
        next = old.filter((r) => !drop.has(r.rdata));
        break;
      }
    }
    rs = [...rest, ...next];
    if (next.length) {
      // RFC 2181 10.1; pdns: "Conflicts with pre-existing RRset".
      const atOwner = rs.filter((r) => r.owner === c.owner);
      const cname = atOwner.some((r) => r.type === TYPE.CNAME);
      if (cname && atOwner.some((r) => r.type !== TYPE.CNAME)) {
        throw invalid(`RRset ${c.label}: Conflicts with pre-existing RRset (a CNAME cannot stand beside other data, RFC 2181 10.1)`, 'cname_conflict');
      }
    }
  }
  return rs;
}
