// RFC 2136 over a zone's stored records, as pure functions: the prerequisite check (3.2), the
// update section prescan (3.4.1) and the update itself (3.4.2), following the RFC's pseudocode
// line by line. Records are compared on their wire form (names without case), never on text.
import { RCODE, TYPE, CLASS_IN, CLASS_ANY, CLASS_NONE, isMetaType } from '../dns/constants.js';
import { isAtOrBelow, relativeKey } from '../dns/name.js';
import { formatRdata, parseRdata, RdataError } from '../dns/rdata.js';
import { relativize, rdataKey } from '../dns/rdata-names.js';
import type { UpdateRR } from '../dns/update.js';
import { resolveZoneName, type StoredRecord } from '../store/records.js';

/** An RR of the message in the zone's terms: relative owner, stored rdata and its wire key. */
export interface ZoneRR {
  owner: string;
  type: number;
  cls: number;
  ttl: number;
  rdlength: number;
  rdata: string | undefined;
  key: string | undefined;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; rcode: number; why: string };
const no = (rcode: number, why: string) => ({ ok: false as const, rcode, why });

/** Converts the message's RRs; NOTZONE for an owner outside the zone (3.2, 3.4.1.3). */
export function toZoneRRs(rrs: readonly UpdateRR[], apex: readonly string[]): Outcome<ZoneRR[]> {
  const out: ZoneRR[] = [];
  for (const rr of rrs) {
    if (!isAtOrBelow(rr.labels, apex)) return no(RCODE.NOTZONE, 'a name outside the zone');
    const rel = rr.labels.slice(0, rr.labels.length - apex.length);
    let rdata: string | undefined;
    let key: string | undefined;
    if (rr.parts) {
      try {
        rdata = formatRdata(rr.type, relativize(rr.parts, apex, false));
      } catch (e) {
        if (e instanceof RdataError) return no(RCODE.FORMERR, e.message);
        throw e;
      }
      key = rdataKey(rr.parts, apex);
    }
    out.push({ owner: rel.length ? relativeKey(rel) : '@', type: rr.type, cls: rr.cls, ttl: rr.ttl, rdlength: rr.rdlength, rdata, key });
  }
  return { ok: true, value: out };
}

interface Held extends StoredRecord { key: string }

function hold(records: readonly StoredRecord[], apex: readonly string[]): Held[] {
  return records.map((r) => ({ ...r, key: rdataKey(parseRdata(r.type, r.rdata, resolveZoneName), apex) }));
}

/** RFC 2136 3.2: NOERROR when every prerequisite holds, else the first failing rcode. */
export function checkPrerequisites(records: readonly StoredRecord[], prereqs: readonly ZoneRR[], apex: readonly string[]): Outcome<void> {
  const zone = hold(records, apex);
  const nameInUse = (o: string) => zone.some((r) => r.owner === o);
  const rrset = (o: string, t: number) => zone.filter((r) => r.owner === o && r.type === t);
  const temp = new Map<string, { owner: string; type: number; keys: Set<string> }>();
  for (const rr of prereqs) {
    if (rr.ttl !== 0) return no(RCODE.FORMERR, 'a prerequisite with a TTL');
    if (rr.cls === CLASS_ANY) {
      if (rr.rdlength !== 0) return no(RCODE.FORMERR, 'a class ANY prerequisite with rdata');
      // 2.4.4 "name is in use" / 2.4.1 "RRset exists (value independent)".
      if (rr.type === TYPE.ANY) { if (!nameInUse(rr.owner)) return no(RCODE.NXDOMAIN, `name ${rr.owner} is not in use`); }
      else if (!rrset(rr.owner, rr.type).length) return no(RCODE.NXRRSET, `no RRset ${rr.owner}/${rr.type}`);
    } else if (rr.cls === CLASS_NONE) {
      if (rr.rdlength !== 0) return no(RCODE.FORMERR, 'a class NONE prerequisite with rdata');
      // 2.4.5 "name is not in use" / 2.4.3 "RRset does not exist".
      if (rr.type === TYPE.ANY) { if (nameInUse(rr.owner)) return no(RCODE.YXDOMAIN, `name ${rr.owner} is in use`); }
      else if (rrset(rr.owner, rr.type).length) return no(RCODE.YXRRSET, `RRset ${rr.owner}/${rr.type} exists`);
    } else if (rr.cls === CLASS_IN) {
      // 2.4.2 "RRset exists (value dependent)": gathered, compared whole below.
      if (!rr.key) return no(RCODE.FORMERR, 'a value-dependent prerequisite without rdata');
      const k = `${rr.owner}\u0000${rr.type}`;
      const t = temp.get(k) ?? { owner: rr.owner, type: rr.type, keys: new Set<string>() };
      t.keys.add(rr.key);
      temp.set(k, t);
    } else return no(RCODE.FORMERR, `a prerequisite of class ${rr.cls}`);
  }
  for (const t of temp.values()) {
    const have = new Set(rrset(t.owner, t.type).map((r) => r.key));
    if (have.size !== t.keys.size || [...t.keys].some((k) => !have.has(k))) return no(RCODE.NXRRSET, `RRset ${t.owner}/${t.type} differs`);
  }
  return { ok: true, value: undefined };
}

const NOT_DATA = (t: number) => t === TYPE.AXFR || t === TYPE.IXFR || t === 253 || t === 254; // AXFR, IXFR, MAILB, MAILA

/** RFC 2136 3.4.1.3: the update section's classes, TTLs and types. */
export function prescan(updates: readonly ZoneRR[]): Outcome<void> {
  for (const rr of updates) {
    if (rr.cls === CLASS_IN) {
      if (rr.type === TYPE.ANY || NOT_DATA(rr.type) || isMetaType(rr.type)) return no(RCODE.FORMERR, `type ${rr.type} cannot be added`);
      if (!rr.rdata) return no(RCODE.FORMERR, 'an add without rdata');
    } else if (rr.cls === CLASS_ANY) {
      if (rr.ttl !== 0 || rr.rdlength !== 0 || NOT_DATA(rr.type)) return no(RCODE.FORMERR, 'a class ANY delete with a TTL, rdata or a meta type');
    } else if (rr.cls === CLASS_NONE) {
      if (rr.ttl !== 0 || rr.type === TYPE.ANY || NOT_DATA(rr.type)) return no(RCODE.FORMERR, 'a class NONE delete with a TTL or a meta type');
      if (!rr.rdata) return no(RCODE.FORMERR, 'a single-record delete without rdata');
    } else return no(RCODE.FORMERR, `an update of class ${rr.cls}`);
  }
  return { ok: true, value: undefined };
}

/** RFC 2136 3.4.2: the zone's records after the updates, in order. Adds replace a record with the
 *  same rdata (so only its TTL changes) and give the whole RRset the new TTL (RFC 2181 5.2, as
 *  BIND does); CNAME conflicts, SOA deletes and the last apex NS are skipped as 3.4.2.2-4 say. */
export function applyUpdates(records: readonly StoredRecord[], updates: readonly ZoneRR[], apex: readonly string[]): StoredRecord[] {
  let zone = hold(records, apex);
  const at = (o: string, t: number) => zone.filter((r) => r.owner === o && r.type === t);
  for (const rr of updates) {
    if (rr.cls === CLASS_IN) {
      const here = zone.filter((r) => r.owner === rr.owner);
      if (rr.type === TYPE.CNAME ? here.some((r) => r.type !== TYPE.CNAME) : here.some((r) => r.type === TYPE.CNAME)) continue;
      const add: Held = { owner: rr.owner, type: rr.type, ttl: rr.ttl, rdata: rr.rdata!, key: rr.key! };
      if (rr.type === TYPE.SOA) {
        const cur = at(rr.owner, TYPE.SOA)[0];
        // Only the apex SOA, and only forward (RFC 1982 compare on the serial).
        if (!cur || !serialAhead(add.rdata, cur.rdata)) continue;
      }
      if (rr.type === TYPE.CNAME || rr.type === TYPE.SOA) {
        zone = [...zone.filter((r) => !(r.owner === rr.owner && r.type === rr.type)), add];
        continue;
      }
      zone = [...zone.filter((r) => !(r.owner === rr.owner && r.type === rr.type && r.key === rr.key)), add]
        .map((r) => (r.owner === rr.owner && r.type === rr.type ? { ...r, ttl: rr.ttl } : r));
    } else if (rr.cls === CLASS_ANY) {
      if (rr.type === TYPE.ANY) {
        zone = zone.filter((r) => r.owner !== rr.owner || (rr.owner === '@' && (r.type === TYPE.SOA || r.type === TYPE.NS)));
      } else if (rr.owner === '@' && (rr.type === TYPE.SOA || rr.type === TYPE.NS)) {
        continue;
      } else zone = zone.filter((r) => !(r.owner === rr.owner && r.type === rr.type));
    } else {
      if (rr.type === TYPE.SOA) continue;
      const set = at(rr.owner, rr.type);
      // 3.4.2.4: never the last NS of the apex.
      if (rr.type === TYPE.NS && rr.owner === '@' && set.length === 1 && set[0].key === rr.key) continue;
      zone = zone.filter((r) => !(r.owner === rr.owner && r.type === rr.type && r.key === rr.key));
    }
  }
  // A record kept keeps the health check it names (migration 013); added ones name none.
  return zone.map(({ owner, type, ttl, rdata, check }) => (check ? { owner, type, ttl, rdata, check } : { owner, type, ttl, rdata }));
}

function serialAhead(next: string, cur: string): boolean {
  const s = (t: string) => Number(/^\S+\s+\S+\s+([0-9]+)/.exec(t)?.[1] ?? NaN);
  const a = s(next);
  const b = s(cur);
  return (a > b && a - b < 2 ** 31) || (a < b && b - a > 2 ** 31);
}
