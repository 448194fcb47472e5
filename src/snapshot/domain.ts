// A served domain: its apex, the zone it points to, and the pending Progressive Zone Change.
// The snapshot stores a DomainEntry (what the domain row says) and binds it to the zones it uses
// when it is looked up (bindDomain): an edit to a zone served by 100,000 domains replaces the zone
// once, not 100,000 domains. The served SOA serial is the zone's serial plus the domain's offset
// (RFC 1982 arithmetic; migrations/README.md). Immutable.
import { TYPE } from '../dns/constants.js';
import { splitName, asciiLower, labelToText } from '../dns/name.js';
import type { CompiledZone, RRset, RR, WirePart } from './zone.js';
import type { DomainDnssec } from '../dnssec/keys.js';

export interface PendingSwitch {
  /** Switch time, Unix seconds (PZC times are whole seconds). */
  readonly at: number;
  readonly zone: CompiledZone;
  readonly zoneId: number;
  /** The SOA the domain serves from `at` on, with the serial the scheduler will write. */
  readonly soa: RRset | undefined;
}

export interface Domain {
  readonly id: number;
  /** Dense number of the id in this process (domainIndex): what per-domain counters index by. */
  readonly index: number;
  /** Lower-case absolute name with the trailing dot. */
  readonly name: string;
  /** Apex labels (lower-case wire form). */
  readonly labels: readonly string[];
  /** Lower-case key forms of the apex labels. */
  readonly keys: readonly string[];
  readonly zoneId: number;
  readonly zone: CompiledZone;
  readonly delegationOnly: boolean;
  readonly serial: number;
  /** The zone's SOA with the domain's serial in it (the served serial is the domain's). */
  readonly soa: RRset | undefined;
  readonly pzc: PendingSwitch | undefined;
  /** DNSSEC keys of the domain (not of its zone: a PZC keeps them); undefined when unsigned. */
  readonly dnssec: DomainDnssec | undefined;
}

export interface DomainRow {
  id: number;
  name: string;
  zone_id: number;
  delegation_only: boolean;
  /** The domain's own part of its served serial (domains.serial_offset). */
  serial_offset: number;
  pzc_zone_id: number | null;
  pzc_at: Date | null;
  /** SOA serial inside the PZC target zone, when it has one. */
  pzc_soa_serial?: number | null;
  /** Loaded beside the row when the domain has keys (store/dnssec-keys.ts). */
  dnssec?: DomainDnssec;
}

/** A domain as stored in the snapshot: the row, parsed, without its zones. */
export interface DomainEntry {
  readonly id: number;
  readonly index: number;
  readonly name: string;
  readonly labels: readonly string[];
  readonly keys: readonly string[];
  readonly zoneId: number;
  readonly delegationOnly: boolean;
  readonly serialOffset: number;
  /** Pending switch: Unix seconds, and the target zone. */
  readonly pzcAt: number | undefined;
  readonly pzcZoneId: number | undefined;
  /** DNSSEC keys (private halves decrypted), when the domain has any. */
  readonly dnssec: DomainDnssec | undefined;
}

/** Dense numbers for domain ids, handed out as entries are built (never on the query path), kept
 *  for the life of the process: the per-domain query counters (server/domain-counts.ts) index
 *  typed arrays by them instead of hashing the id on every answer. */
const indexes = new Map<number, number>();
const ids: number[] = [];

export function domainIndex(id: number): number {
  let i = indexes.get(id);
  if (i === undefined) { i = ids.length; indexes.set(id, i); ids.push(id); }
  return i;
}

/** The domain id a dense index stands for. */
export const domainIdOf = (index: number): number => ids[index];

/** RFC 1982 sum in the 32-bit serial space: the served serial of a domain. */
export function servedSerial(zoneSerial: number, offset: number): number {
  return (zoneSerial + offset) % 0x100000000;
}

/** RFC 1982 serial increment as the database does it (next_serial in migrations/001_schema.sql). */
export function nextSerial(cur: number, soa: number | undefined): number {
  if (soa !== undefined && ((soa > cur && soa - cur < 2 ** 31) || (soa < cur && cur - soa > 2 ** 31))) return soa;
  return cur >= 0xffffffff ? 1 : cur + 1;
}

/** The zone SOA with `serial` patched in: the fixed 20 octets after MNAME and RNAME start with it. */
/** SOA RDATA parts with SERIAL replaced: the 20 fixed octets after MNAME and RNAME (RFC 1035
 *  3.3.13) begin with it. Copies; the zone's parts are shared and never written. */
export function soaPartsWithSerial(parts: readonly WirePart[], serial: number): WirePart[] {
  return parts.map((p) => {
    if (p instanceof Uint8Array && p.length === 20) {
      const copy = new Uint8Array(p);
      new DataView(copy.buffer).setUint32(0, serial >>> 0);
      return copy;
    }
    return p;
  });
}

export function soaWithSerial(zone: CompiledZone, serial: number): RRset | undefined {
  const soa = zone.nodes.get('')?.rrsets.get(TYPE.SOA);
  if (!soa || soa.rrs.length === 0) return undefined;
  const rr = soa.rrs[0];
  // Already the right serial (a domain whose serial follows its zone's SOA): share the zone's.
  if (zoneSoaSerial(zone) === serial >>> 0) return soa;
  const parts = soaPartsWithSerial(rr.parts, serial);
  const patched: RR = { ttl: rr.ttl, parts, maxLength: rr.maxLength };
  return { type: soa.type, rrs: [patched], compress: soa.compress };
}

/** Serial field of a zone's own SOA, if any. */
export function zoneSoaSerial(zone: CompiledZone): number | undefined {
  const soa = zone.nodes.get('')?.rrsets.get(TYPE.SOA)?.rrs[0];
  const fixed = soa?.parts.find((p): p is Uint8Array => p instanceof Uint8Array && p.length === 20);
  return fixed ? new DataView(fixed.buffer, fixed.byteOffset, 20).getUint32(0) : undefined;
}

/** Key forms of apex labels; the labels array itself when they are their own keys (the usual case). */
function keysOf(labels: readonly string[]): readonly string[] {
  const keys = labels.map((l) => asciiLower(labelToText(l)));
  return keys.every((k, i) => k === labels[i]) ? labels : keys;
}

export function entryOf(row: DomainRow): DomainEntry {
  const labels = splitName(row.name).labels.slice(); // exact length: splitName's array has room to spare
  const pending = row.pzc_at !== null && row.pzc_zone_id !== null;
  return {
    id: row.id,
    index: domainIndex(row.id),
    name: row.name,
    labels,
    keys: keysOf(labels),
    zoneId: row.zone_id,
    delegationOnly: row.delegation_only,
    serialOffset: row.serial_offset,
    pzcAt: pending ? Math.floor(row.pzc_at!.getTime() / 1000) : undefined,
    pzcZoneId: pending ? row.pzc_zone_id! : undefined,
    dnssec: row.dnssec,
  };
}

/** The domain of an entry served from `zone` (and switching to `pzcZone`). */
export function bindDomain(e: DomainEntry, zone: CompiledZone, pzcZone: CompiledZone | undefined): Domain {
  const serial = servedSerial(zone.serial, e.serialOffset);
  let pzc: PendingSwitch | undefined;
  if (e.pzcAt !== undefined && pzcZone) {
    // What the scheduler will write at the switch (domains_serial in migrations/008_scale.sql).
    const next = nextSerial(serial, pzcZone.serial);
    pzc = { at: e.pzcAt, zone: pzcZone, zoneId: pzcZone.id, soa: soaWithSerial(pzcZone, next) };
  }
  return {
    id: e.id,
    index: e.index,
    name: e.name,
    labels: e.labels,
    keys: e.keys,
    zoneId: e.zoneId,
    zone,
    delegationOnly: e.delegationOnly,
    serial,
    soa: soaWithSerial(zone, serial),
    pzc,
    dnssec: e.dnssec,
  };
}

/** A row bound at once (tests and benchmarks that have the zones at hand). */
export function buildDomain(row: DomainRow, zone: CompiledZone, pzcZone: CompiledZone | undefined): Domain {
  return bindDomain(entryOf(row), zone, pzcZone);
}
