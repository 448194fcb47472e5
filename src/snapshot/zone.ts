// A zone compiled for lookup: nodes keyed by relative lower-case name, empty non-terminals and zone
// cuts precomputed (RFC 1034 4.3.2 step 3 needs both at every ancestor), rdata parsed once into wire
// parts. Shared by every domain that points to the zone: names relative to the apex stay relative
// here and get the domain's apex appended by the encoder.
import { asciiLower, labelToText, resolveZoneName } from '../dns/name.js';
import { TYPE } from '../dns/constants.js';
import { parseRdata, isCompressibleType } from '../dns/rdata.js';
import { RS, US, detach, unpackRange, type PackedRecords } from './packed.js';

/** A record as the store keeps it and hands it over: owner relative to the apex ("@" for the apex),
 *  type code, TTL, RDATA in presentation form with names relative unless they end in a dot. */
export interface StoredRecord {
  owner: string; type: number; ttl: number; rdata: string;
  /** The health check the record names (health_checks.id), when it has one (snapshot/health.ts). */
  check?: number | null;
}

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
  /** The zone's serial (zones.serial): a domain serves it plus its own offset (domain.ts). */
  readonly serial: number;
  readonly nodes: ReadonlyMap<string, ZoneNode>;
  /** Empty non-terminals (RFC 4592 2.2.2): names that exist without a node ("" when the apex has
   *  no data). A name exists when it is a node or in here; see nameExists(). */
  readonly ents: ReadonlySet<string>;
  readonly hasWildcard: boolean;
  readonly hasDname: boolean;
  /** The largest TTL in the zone (for PZC warnings). */
  readonly maxTtl: number;
  /** RRset-level PZC: node key -> type -> switch time (Unix seconds) of a pending change. */
  readonly pending: ReadonlyMap<string, ReadonlyMap<number, number>>;
  /** What the zone was compiled from, kept only when changes are pending (to derive the zone as
   *  it is after each switch time). */
  readonly source: { records: readonly StoredRecord[]; schedules: readonly ScheduledRRset[] } | undefined;
  /** Zones derived after the first N pending changes took effect (a cache, filled on demand);
   *  undefined when nothing is pending. */
  readonly derived: Map<number, CompiledZone> | undefined;
  /** Records that name a health check (snapshot/health.ts); undefined when none does. */
  readonly health?: ZoneHealth;
  /** A zone with the records of down checks left out: the zone as stored (transfers serve it). */
  readonly ungated?: CompiledZone;
}

/** Which RR of which RRset names which health check: node key -> type -> check id per RR, in the
 *  RRset's order (0: none). */
export interface ZoneHealth {
  readonly checks: ReadonlySet<number>;
  readonly sets: ReadonlyMap<string, ReadonlyMap<number, readonly number[]>>;
}

/** RFC 1034 4.3.2 / RFC 4592 2.2.2: the name (relative key) exists in the zone, as a node or an
 *  empty non-terminal. */
export function nameExists(zone: CompiledZone, key: string): boolean {
  return zone.nodes.has(key) || zone.ents.has(key);
}

/** An RRset change scheduled for a time (empty rdatas: the RRset goes away). */
export interface ScheduledRRset { owner: string; type: number; ttl: number; rdatas: string[]; at: Date }

export function isNameLike(p: WirePart): p is CompiledName {
  return !(p instanceof Uint8Array);
}

export function compileName(labels: readonly string[], relative: boolean): CompiledName {
  return { labels, keys: labels.map((l) => asciiLower(labelToText(l))), relative };
}

/** compileName for data kept in the snapshot: arrays of exactly their length (an array grown by
 *  push() keeps room for 16 more, 128 bytes), and one array for both when the labels are already
 *  their own keys (lower case, nothing to escape: nearly every name). */
function compactName(labels: readonly string[], relative: boolean): CompiledName {
  // detach: a label cut from a zone's packed text would otherwise keep all of it (packed.ts).
  const own = labels.map(detach);
  const keys = own.map((l) => asciiLower(labelToText(l)));
  return { labels: own, keys: keys.every((k, i) => k === own[i]) ? own : keys, relative };
}

function maxLength(parts: readonly WirePart[]): number {
  let n = 255 + 10;
  for (const p of parts) n += p instanceof Uint8Array ? p.length : 255;
  return n;
}

/** The RRsets of one node. A node holds a handful of types, so a linear scan over an array is as
 *  fast as a hash lookup and costs one small array instead of a Map (a Map's table is several
 *  hundred bytes, and a 1.3 M-record snapshot has hundreds of thousands of nodes). Immutable. */
export class RRsetMap implements ReadonlyMap<number, RRset> {
  constructor(private readonly sets: readonly RRset[]) {}
  get(type: number): RRset | undefined {
    const a = this.sets;
    for (let i = 0; i < a.length; i++) if (a[i].type === type) return a[i];
    return undefined;
  }
  has(type: number): boolean { return this.get(type) !== undefined; }
  get size(): number { return this.sets.length; }
  *entries(): MapIterator<[number, RRset]> { for (const s of this.sets) yield [s.type, s]; }
  *keys(): MapIterator<number> { for (const s of this.sets) yield s.type; }
  *values(): MapIterator<RRset> { for (const s of this.sets) yield s; }
  [Symbol.iterator](): MapIterator<[number, RRset]> { return this.entries(); }
  forEach(fn: (value: RRset, key: number, map: ReadonlyMap<number, RRset>) => void): void {
    for (const s of this.sets) fn(s, s.type, this);
  }
}

const NO_PENDING: ReadonlyMap<string, ReadonlyMap<number, number>> = new Map();
const NO_ENTS: ReadonlySet<string> = new Set();
/** Entries a CompileCache map may hold before it starts over (bounds its memory on huge loads). */
const CACHE_LIMIT = 16_384;
/** Slab sizes: the first slab of a cache is small and each next one twice the last, up to SLAB. A
 *  journal delta compiles a zone or two with a cache of its own, and everything it compiled keeps
 *  its slab alive: a 64 KiB slab per delta held about 60 KiB of nothing per edited zone (6 GB after
 *  100,000 zones edited once each) and, as external memory, made V8 start a full mark of the
 *  heap every thousand edits or so. */
const FIRST_SLAB = 1024;
const SLAB = 64 * 1024;

/** Interning while compiling many zones (a snapshot build or one journal delta): equal rdata,
 *  RRs, RRsets, names, nodes and empty non-terminal sets become one shared immutable object, and
 *  rdata octets are packed into shared slabs instead of one ArrayBuffer per record (about 200
 *  bytes each in V8). Hosted zones repeat themselves a lot (the same NS, MX, SPF TXT, "www CNAME
 *  @", a template's records), and names inside a zone are stored relative to its apex, so most
 *  nodes are shared by many zones. Everything interned is immutable and owes nothing to the zone
 *  it was first compiled for. Drop the cache once the build is done: it holds keys for everything. */
export class CompileCache {
  // Keys are chosen to cost little to make: rdata text per type as it comes (no concatenation to
  // hash), an RR by its interned rdata and TTL, an RRset by the numbers of its interned RRs.
  private readonly parts = new Map<number, Map<string, readonly WirePart[]>>();
  private readonly rrs = new Map<readonly WirePart[], RR | RR[]>();
  private rrIds = new Map<RR, number>();
  /** Never reused, also when rrIds starts over: `sets` may still hold keys made of old numbers. */
  private nextRrId = 1;
  private readonly sets = new Map<string, RRset>();
  /** RRsets of one RR (nearly all of them) by that RR: an object key is hashed once, where a
   *  string key is made and hashed on every lookup (2 s of a million-domain load). An interned RR
   *  has one type (the rdata cache is per type), so the RR alone is the key. */
  private readonly singles = new Map<RR, RRset>();
  private readonly nodes = new Map<string, ZoneNode>();
  private readonly names = new Map<string, CompiledName>();
  private readonly entSets = new Map<string, ReadonlySet<string>>();
  private slab = new Uint8Array(0);
  private slabPos = 0;
  private nextSlab = FIRST_SLAB;

  private static put<K, V>(m: Map<K, V>, k: K, v: V): V {
    if (m.size >= CACHE_LIMIT) m.clear();
    m.set(k, v);
    return v;
  }

  /** A copy of `b` in a shared slab (immutable: nothing writes to zone data). */
  bytes(b: Uint8Array): Uint8Array {
    if (b.length > 512) return new Uint8Array(b);
    if (this.slabPos + b.length > this.slab.length) {
      this.slab = new Uint8Array(Math.max(this.nextSlab, b.length));
      this.slabPos = 0;
      this.nextSlab = Math.min(SLAB, this.nextSlab * 2);
    }
    const out = this.slab.subarray(this.slabPos, this.slabPos + b.length);
    out.set(b);
    this.slabPos += b.length;
    return out;
  }

  name(labels: readonly string[], relative: boolean): CompiledName {
    let k = relative ? 'r' : 'a';
    for (const l of labels) k += l.length + ':' + l;
    return this.names.get(k) ?? CompileCache.put(this.names, k, compactName(labels, relative));
  }

  /** Parsed rdata: throws (RdataError, NameError) when it does not parse. */
  rdata(type: number, text: string): readonly WirePart[] {
    let byText = this.parts.get(type);
    if (!byText) this.parts.set(type, (byText = new Map()));
    const hit = byText.get(text);
    if (hit) return hit;
    const parts = parseRdata(type, text, resolveZoneName).map((p) => (p instanceof Uint8Array ? this.bytes(p) : this.name(p.labels, p.relative)));
    return CompileCache.put(byText, text, parts);
  }

  rr(type: number, ttl: number, text: string): RR {
    const parts = this.rdata(type, text);
    const hit = this.rrs.get(parts);
    if (hit) {
      if (!Array.isArray(hit)) { if (hit.ttl === ttl) return hit; }
      else for (const x of hit) if (x.ttl === ttl) return x;
    }
    const rr: RR = { ttl, parts, maxLength: maxLength(parts) };
    // The same rdata with another TTL: rare, kept beside it.
    CompileCache.put(this.rrs, parts, hit === undefined ? rr : Array.isArray(hit) ? [...hit, rr] : [hit, rr]);
    if (this.rrIds.size >= CACHE_LIMIT * 4) this.rrIds = new Map();
    this.rrIds.set(rr, this.nextRrId++);
    return rr;
  }

  /** The interned RRset of `rrs` (interned by rr()). */
  rrset(type: number, rrs: readonly RR[]): RRset {
    if (rrs.length === 1) {
      const rr = rrs[0];
      return this.singles.get(rr) ?? CompileCache.put(this.singles, rr, { type, rrs, compress: isCompressibleType(type) });
    }
    let key = String(type);
    for (const rr of rrs) {
      const id = this.rrIds.get(rr);
      // An RR the id map has forgotten (it started over): not shared, which is only less compact.
      if (id === undefined) return { type, rrs, compress: isCompressibleType(type) };
      key += ' ' + id;
    }
    return this.sets.get(key) ?? CompileCache.put(this.sets, key, { type, rrs, compress: isCompressibleType(type) });
  }

  /** The node compiled earlier from the same owner and records, if any. */
  node(key: string): ZoneNode | undefined { return this.nodes.get(key); }
  addNode(key: string, node: ZoneNode): void { CompileCache.put(this.nodes, key, node); }

  ents(keys: string[]): ReadonlySet<string> {
    if (keys.length === 0) return NO_ENTS;
    keys.sort();
    const k = keys.join('\u0000');
    return this.entSets.get(k) ?? CompileCache.put(this.entSets, k, new Set(keys));
  }
}

/** One node from its records. Undefined when a record does not parse (after telling onBadRecord),
 *  unless `skipBad`: then the records that parse, or undefined when none does. */
function compileNode(key: string, recs: readonly StoredRecord[], cache: CompileCache,
  onBadRecord: (r: StoredRecord, err: Error) => void, skipBad = false): ZoneNode | undefined {
  const sets = new Map<number, RR[]>();
  let bad = false;
  for (const r of recs) {
    let rr: RR;
    try {
      rr = cache.rr(r.type, r.ttl, r.rdata);
    } catch (err) {
      onBadRecord(r, err as Error);
      bad = true;
      continue;
    }
    const s = sets.get(r.type);
    if (s) s.push(rr); else sets.set(r.type, [rr]);
  }
  if ((bad && !skipBad) || sets.size === 0) return undefined;
  const rrsets: RRset[] = [];
  for (const [type, rrs] of sets) {
    // RFC 2181 5.2: all TTLs of an RRset are equal; serve the lowest if the data disagrees.
    let ttl = rrs[0].ttl;
    let same = true;
    for (const x of rrs) { if (x.ttl !== ttl) same = false; if (x.ttl < ttl) ttl = x.ttl; }
    rrsets.push(same ? cache.rrset(type, rrs.length > 1 ? rrs.slice() : rrs) // slice: no spare room
      : { type, rrs: rrs.map((x) => ({ ...x, ttl })), compress: isCompressibleType(type) });
  }
  const owner = resolveZoneName(key === '' ? '@' : key);
  return { key, name: cache.name(owner.labels, true), rrsets: new RRsetMap(rrsets.slice()), cut: key !== '' && sets.has(TYPE.NS) };
}

/** The node for one owner: from the cache when a zone compiled earlier in this build had the same
 *  `content`, else compiled from `recs()` (asked for only then). */
function nodeOf(key: string, content: string, recs: () => readonly StoredRecord[], cache: CompileCache,
  onBadRecord: (r: StoredRecord, err: Error) => void): ZoneNode | undefined {
  let node = cache.node(content);
  if (node) return node;
  const list = recs();
  node = compileNode(key, list, cache, onBadRecord);
  // A node with a record that does not parse is not shared: every zone holding it must report it.
  if (node) cache.addNode(content, node);
  else node = compileNode(key, list, cache, () => undefined, true);
  return node;
}

/** A zone's nodes as they are added, and what the lookup needs to know of them. */
class NodesBuilder {
  readonly nodes = new Map<string, ZoneNode>();
  private readonly exists = new Set<string>(['']);
  hasWildcard = false;
  hasDname = false;

  add(node: ZoneNode): void {
    this.nodes.set(node.key, node);
    if (node.name.keys[0] === '*') this.hasWildcard = true;
    if (node.rrsets.has(TYPE.DNAME)) this.hasDname = true;
    // Every ancestor between the node and the apex exists, as an empty non-terminal at least.
    const keys = node.name.keys;
    let suffix = '';
    for (let i = keys.length - 1; i >= 1; i--) {
      suffix = i === keys.length - 1 ? keys[i] : keys[i] + '.' + suffix;
      this.exists.add(suffix);
    }
  }

  finish(id: number, cache: CompileCache, maxTtl: number, serial: number | undefined,
    records: readonly StoredRecord[], schedules: readonly ScheduledRRset[]): CompiledZone {
    const nodes = this.nodes;
    const ents: string[] = [];
    for (const k of this.exists) if (!nodes.has(k)) ents.push(k);
    const sorted = [...schedules].sort((a, b) => a.at.getTime() - b.at.getTime());
    let pending = NO_PENDING;
    if (sorted.length) {
      const m = new Map<string, Map<number, number>>();
      for (const c of sorted) {
        const key = c.owner === '@' ? '' : c.owner;
        let byType = m.get(key);
        if (!byType) m.set(key, (byType = new Map()));
        if (!byType.has(c.type)) byType.set(c.type, Math.floor(c.at.getTime() / 1000));
      }
      pending = m;
    }
    return {
      id, serial: serial ?? soaSerialOf(nodes) ?? 0, nodes, ents: cache.ents(ents), hasWildcard: this.hasWildcard,
      hasDname: this.hasDname, maxTtl, pending,
      source: sorted.length ? { records, schedules: sorted } : undefined,
      derived: sorted.length ? new Map() : undefined,
    };
  }
}

/** Compiles stored records (already validated when written) into a lookup structure. A record
 *  that no longer parses is skipped rather than taking the whole zone down; `onBadRecord` hears of it. */
export function compileZone(id: number, records: readonly StoredRecord[], schedules: readonly ScheduledRRset[] = [],
  onBadRecord: (r: StoredRecord, err: Error) => void = () => undefined, cache = new CompileCache(), serial?: number): CompiledZone {
  // Records by owner, in the order read (the order of records in an RRset is the order served).
  const byOwner = new Map<string, StoredRecord[]>();
  let maxTtl = 0;
  for (const r of records) {
    const key = r.owner === '@' ? '' : r.owner;
    const list = byOwner.get(key);
    if (list) list.push(r); else byOwner.set(key, [r]);
    if (r.ttl > maxTtl) maxTtl = r.ttl;
  }
  const b = new NodesBuilder();
  for (const [key, recs] of byOwner) {
    // Everything the node is made of, as text: equal content in any zone gives an equal node.
    let content = key + '\u0000';
    for (const r of recs) content += r.type + ' ' + r.ttl + ' ' + r.rdata + '\u0000';
    const node = nodeOf(key, content, () => recs, cache, onBadRecord);
    if (node) b.add(node);
  }
  return b.finish(id, cache, maxTtl, serial, records, schedules);
}

/** compileZone from the packed form (packed.ts), for a zone without pending changes. The text of
 *  an owner's records (owner, US, ...) is its node's cache key: it cannot equal compileZone's
 *  (owner, NUL, ...), as neither control character is in an owner. */
export function compilePackedZone(id: number, p: PackedRecords, onBadRecord: (r: StoredRecord, err: Error) => void = () => undefined,
  cache = new CompileCache(), serial?: number): CompiledZone {
  const steps = compilePackedZoneSteps(id, p, onBadRecord, cache, serial, Infinity);
  let r = steps.next();
  while (!r.done) r = steps.next();
  return r.value;
}

/** compilePackedZone in steps: yields after every `nodesPerStep` nodes, returns the zone. The change
 *  feed runs a large zone's steps with the event loop turning between them (build.ts). */
export function* compilePackedZoneSteps(id: number, p: PackedRecords, onBadRecord: (r: StoredRecord, err: Error) => void,
  cache: CompileCache, serial: number | undefined, nodesPerStep: number): Generator<void, CompiledZone> {
  const t = p.text;
  const n = t.length;
  const b = new NodesBuilder();
  let pos = 0;
  let step = 0;
  while (pos < n) {
    const ownerEnd = t.indexOf(US, pos);
    const owner = t.slice(pos, ownerEnd);
    // The records of one owner are contiguous (sorted by owner): find where the next owner starts.
    let end = t.indexOf(RS, ownerEnd);
    while (end >= 0 && t.charCodeAt(end + 1 + owner.length) === 0x1f && t.startsWith(owner, end + 1)) end = t.indexOf(RS, end + 1);
    if (end < 0) end = n;
    const start = pos;
    const node = nodeOf(owner === '@' ? '' : detach(owner), t.slice(start, end), () => unpackRange(t, start, end), cache, onBadRecord);
    if (node) b.add(node);
    pos = end + 1;
    if (++step >= nodesPerStep) { step = 0; yield; }
  }
  return b.finish(id, cache, p.maxTtl, serial, [], []);
}

/** The zone as it is at `nowMs`: the RRset changes whose time has come applied (by the clock,
 *  before the scheduler has written them). The same object when none is due. */
export function zoneAt(zone: CompiledZone, nowMs: number): CompiledZone {
  const src = zone.source;
  if (!src) return zone;
  let due = 0;
  while (due < src.schedules.length && src.schedules[due].at.getTime() <= nowMs) due++;
  if (due === 0) return zone;
  let z = zone.derived?.get(due);
  if (!z) {
    const applied = src.schedules.slice(0, due);
    const replaced = new Set(applied.map((c) => `${c.owner}\u0000${c.type}`));
    const records = src.records.filter((r) => !replaced.has(`${r.owner}\u0000${r.type}`));
    for (const c of applied) {
      const last = applied.filter((x) => x.owner === c.owner && x.type === c.type).pop();
      if (last !== c) continue;
      for (const rdata of c.rdatas) records.push({ owner: c.owner, type: c.type, ttl: c.ttl, rdata });
    }
    z = compileZone(zone.id, records, src.schedules.slice(due), undefined, undefined, zone.serial);
    zone.derived?.set(due, z);
  }
  return z;
}

/** Compiles, now, the zone as it will be after each of its pending RRset changes, so that the
 *  first query after a switch time only reads (zoneAt finds it in `derived`). Called when a zone
 *  arrives in a snapshot, off the query path. */
export function prepareZone(zone: CompiledZone): CompiledZone {
  const src = zone.source;
  if (!src) return zone;
  const times = new Set(src.schedules.map((c) => c.at.getTime()));
  for (const t of times) zoneAt(zone, t);
  return zone;
}

/** SERIAL of the apex SOA (RFC 1035 3.3.13: the first of the 20 fixed octets after MNAME and RNAME). */
function soaSerialOf(nodes: ReadonlyMap<string, ZoneNode>): number | undefined {
  const soa = nodes.get('')?.rrsets.get(TYPE.SOA)?.rrs[0];
  const fixed = soa?.parts.find((p): p is Uint8Array => p instanceof Uint8Array && p.length === 20);
  return fixed ? new DataView(fixed.buffer, fixed.byteOffset, 20).getUint32(0) : undefined;
}
