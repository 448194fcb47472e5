// A zone compiled for lookup: nodes keyed by relative lower-case name, empty non-terminals and zone
// cuts precomputed (RFC 1034 4.3.2 step 3 needs both at every ancestor), rdata parsed once into wire
// parts. Shared by every domain that points to the zone: names relative to the apex stay relative
// here and get the domain's apex appended by the encoder.
import { asciiLower, labelToText } from '../dns/name.js';
import { TYPE } from '../dns/constants.js';
import { parseRdata, isCompressibleType, type RdataPart } from '../dns/rdata.js';
import { resolveZoneName, type StoredRecord } from '../store/records.js';

/** A name inside zone data, ready for the encoder: wire labels (original case), their lower-case
 *  key forms (for compression and lookup), and whether the domain apex follows. */
export interface CompiledName {
  readonly labels: readonly string[];
  readonly keys: readonly string[];
  readonly relative: boolean;
}

export type WirePart = Uint8Array | CompiledName;

export interface RR {
  readonly ttl: number;
  readonly parts: readonly WirePart[];
  /** Upper bound of the encoded record with an uncompressed owner of 255 octets. */
  readonly maxLength: number;
}

export interface RRset {
  readonly type: number;
  readonly rrs: readonly RR[];
  /** Whether names in rdata may be compressed on sending (RFC 3597 4). */
  readonly compress: boolean;
}

export interface ZoneNode {
  /** Relative key: "" for the apex, else "www", "a.b" (escaped, lower-case). */
  readonly key: string;
  readonly name: CompiledName;
  readonly rrsets: ReadonlyMap<number, RRset>;
  /** NS below the apex: a zone cut (RFC 1034 4.2.2); data under it is glue only. */
  readonly cut: boolean;
}

export interface CompiledZone {
  readonly id: number;
  readonly nodes: ReadonlyMap<string, ZoneNode>;
  /** Every name that exists: nodes and the empty non-terminals above them (RFC 4592 2.2.2). */
  readonly exists: ReadonlySet<string>;
  readonly hasWildcard: boolean;
  readonly hasDname: boolean;
  /** The largest TTL in the zone (for PZC warnings). */
  readonly maxTtl: number;
  /** RRset-level PZC: node key -> type -> switch time (Unix seconds) of a pending change. */
  readonly pending: ReadonlyMap<string, ReadonlyMap<number, number>>;
  /** What the zone was compiled from, kept only when changes are pending (to derive the zone as
   *  it is after each switch time). */
  readonly source: { records: readonly StoredRecord[]; schedules: readonly ScheduledRRset[] } | undefined;
  /** Zones derived after the first N pending changes took effect (a cache, filled on demand). */
  readonly derived: Map<number, CompiledZone>;
}

/** An RRset change scheduled for a time (empty rdatas: the RRset goes away). */
export interface ScheduledRRset { owner: string; type: number; ttl: number; rdatas: string[]; at: Date }

export function isNameLike(p: WirePart): p is CompiledName {
  return !(p instanceof Uint8Array);
}

export function compileName(labels: readonly string[], relative: boolean): CompiledName {
  return { labels, keys: labels.map((l) => asciiLower(labelToText(l))), relative };
}

function compileParts(parts: readonly RdataPart[]): WirePart[] {
  return parts.map((p) => (p instanceof Uint8Array ? p : compileName(p.labels, p.relative)));
}

function maxLength(parts: readonly WirePart[]): number {
  let n = 255 + 10;
  for (const p of parts) n += p instanceof Uint8Array ? p.length : 255;
  return n;
}

/** Compiles stored records (already validated when written) into a lookup structure. A record
 *  that no longer parses is skipped rather than taking the whole zone down; `onBadRecord` hears of it. */
export function compileZone(id: number, records: readonly StoredRecord[], schedules: readonly ScheduledRRset[] = [],
  onBadRecord: (r: StoredRecord, err: Error) => void = () => undefined): CompiledZone {
  const building = new Map<string, { name: CompiledName; sets: Map<number, RR[]> }>();
  let maxTtl = 0;
  for (const r of records) {
    let parts: WirePart[];
    try {
      parts = compileParts(parseRdata(r.type, r.rdata, resolveZoneName));
    } catch (err) {
      onBadRecord(r, err as Error);
      continue;
    }
    const key = r.owner === '@' ? '' : r.owner;
    let node = building.get(key);
    if (!node) {
      const owner = resolveZoneName(r.owner === '@' ? '@' : r.owner);
      building.set(key, (node = { name: compileName(owner.labels, true), sets: new Map() }));
    }
    let list = node.sets.get(r.type);
    if (!list) node.sets.set(r.type, (list = []));
    list.push({ ttl: r.ttl, parts, maxLength: maxLength(parts) });
    if (r.ttl > maxTtl) maxTtl = r.ttl;
  }
  const nodes = new Map<string, ZoneNode>();
  const exists = new Set<string>(['']);
  let hasWildcard = false;
  let hasDname = false;
  for (const [key, b] of building) {
    const rrsets = new Map<number, RRset>();
    for (const [type, rrs] of b.sets) {
      // RFC 2181 5.2: all TTLs of an RRset are equal; serve the lowest if the data disagrees.
      const ttl = Math.min(...rrs.map((x) => x.ttl));
      const same = rrs.every((x) => x.ttl === ttl) ? rrs : rrs.map((x) => ({ ...x, ttl }));
      rrsets.set(type, { type, rrs: same, compress: isCompressibleType(type) });
      if (type === TYPE.DNAME) hasDname = true;
    }
    nodes.set(key, { key, name: b.name, rrsets, cut: key !== '' && rrsets.has(TYPE.NS) });
    if (b.name.keys[0] === '*') hasWildcard = true;
    // Every ancestor between the node and the apex exists, as an empty non-terminal at least.
    for (let i = 0; i < b.name.keys.length; i++) exists.add(b.name.keys.slice(i).join('.'));
  }
  const sorted = [...schedules].sort((a, b) => a.at.getTime() - b.at.getTime());
  const pending = new Map<string, Map<number, number>>();
  for (const c of sorted) {
    const key = c.owner === '@' ? '' : c.owner;
    let m = pending.get(key);
    if (!m) pending.set(key, (m = new Map()));
    if (!m.has(c.type)) m.set(c.type, Math.floor(c.at.getTime() / 1000));
  }
  return {
    id, nodes, exists, hasWildcard, hasDname, maxTtl, pending,
    source: sorted.length ? { records, schedules: sorted } : undefined,
    derived: new Map(),
  };
}

/** The zone as it is at `nowMs`: the RRset changes whose time has come applied (by the clock,
 *  before the scheduler has written them). The same object when none is due. */
export function zoneAt(zone: CompiledZone, nowMs: number): CompiledZone {
  const src = zone.source;
  if (!src) return zone;
  let due = 0;
  while (due < src.schedules.length && src.schedules[due].at.getTime() <= nowMs) due++;
  if (due === 0) return zone;
  let z = zone.derived.get(due);
  if (!z) {
    const applied = src.schedules.slice(0, due);
    const replaced = new Set(applied.map((c) => `${c.owner}\u0000${c.type}`));
    const records = src.records.filter((r) => !replaced.has(`${r.owner}\u0000${r.type}`));
    for (const c of applied) {
      const last = applied.filter((x) => x.owner === c.owner && x.type === c.type).pop();
      if (last !== c) continue;
      for (const rdata of c.rdatas) records.push({ owner: c.owner, type: c.type, ttl: c.ttl, rdata });
    }
    z = compileZone(zone.id, records, src.schedules.slice(due));
    zone.derived.set(due, z);
  }
  return z;
}
