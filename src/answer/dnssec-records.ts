// The DNSSEC records a signed domain publishes at its apex, made from the domain's keys rather than
// its (shared) zone: DNSKEY (RFC 4034 2), and CDS/CDNSKEY (RFC 7344) for the key the parent should
// hold, or the "delete" pair once signing is turned off (RFC 8078 4). Built once per key set.
import { TYPE } from '../dns/constants.js';
import { dnskeyRdata, dsRdata, type DomainDnssec } from '../dnssec/keys.js';
import { dnskeyTtl, MAX_DNSKEY_TTL } from '../dnssec/rollover.js';
import type { Domain } from '../snapshot/domain.js';
import type { CompiledZone, RRset, ZoneNode } from '../snapshot/zone.js';
import type { Lookup } from './lookup.js';

export const CDS = 59;
export const CDNSKEY = 60;
/** Longest TTL of DNSKEY, CDS and CDNSKEY; they take the SOA's TTL up to this (dnssec/rollover.ts):
 *  a rollover waits for it (RFC 7583 3.2.1 Ipub), so a zone with short TTLs rolls quickly. */
export const DNSKEY_TTL = MAX_DNSKEY_TTL;

interface ApexSets { readonly ttl: number; readonly dnskey?: RRset; readonly cds?: RRset; readonly cdnskey?: RRset }

const built = new WeakMap<DomainDnssec, ApexSets>();

function set(type: number, ttl: number, rdatas: Uint8Array[]): RRset | undefined {
  if (rdatas.length === 0) return undefined;
  return { type, compress: false, rrs: rdatas.map((r) => ({ ttl, parts: [r], maxLength: 265 + r.length })) };
}

function apexSets(domain: Domain, d: DomainDnssec): ApexSets {
  const ttl = dnskeyTtl(domain.soa?.rrs[0]?.ttl);
  let s = built.get(d);
  if (s && s.ttl === ttl) return s;
  if (d.keys.length === 0) {
    // RFC 8078 4: CDS 0 0 0 00 and CDNSKEY 0 3 0 AA== ask the parent to remove the DS.
    s = { ttl, cds: set(CDS, ttl, [Uint8Array.from([0, 0, 0, 0, 0])]), cdnskey: set(CDNSKEY, ttl, [Uint8Array.from([0, 0, 3, 0, 0])]) };
  } else {
    // The parent should hold the DS of the keys that sign or are about to (not a retired one):
    // during a rollover's publish and ds phases both keys (RFC 7583 3.3.2 Double-DS), then only the new.
    const forParent = d.keys.filter((k) => k.state !== 'retired' && (k.flags & 1) === 1);
    s = {
      ttl,
      dnskey: set(TYPE.DNSKEY, ttl, d.keys.map((k) => dnskeyRdata(k))),
      cds: set(CDS, ttl, forParent.map((k) => dsRdata(domain.name, k, 2))),
      cdnskey: set(CDNSKEY, ttl, forParent.map((k) => dnskeyRdata(k))),
    };
  }
  built.set(d, s);
  return s;
}

/** The apex RRset of this type made from the domain's keys, if any. */
export function apexDnssecSet(domain: Domain, qtype: number): RRset | undefined {
  const d = domain.dnssec;
  if (!d || (qtype !== TYPE.DNSKEY && qtype !== CDS && qtype !== CDNSKEY)) return undefined;
  const s = apexSets(domain, d);
  return qtype === TYPE.DNSKEY ? s.dnskey : qtype === CDS ? s.cds : s.cdnskey;
}

/** Types the domain's keys add at the apex (for NSEC bitmaps). */
export function apexDnssecTypes(domain: Domain): number[] {
  const d = domain.dnssec;
  if (!d) return [];
  const s = apexSets(domain, d);
  const out: number[] = [];
  if (s.dnskey) out.push(TYPE.DNSKEY);
  if (s.cds) out.push(CDS);
  if (s.cdnskey) out.push(CDNSKEY);
  return out;
}

const EMPTY_APEX: ZoneNode = { key: '', name: { labels: [], keys: [], relative: true }, rrsets: new Map(), cut: false };

export function apexHit(zone: CompiledZone, set: RRset): Lookup {
  return { kind: 'hit', set, key: '', node: zone.nodes.get('') ?? EMPTY_APEX };
}
