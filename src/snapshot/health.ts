// Health-gated records (issue 20), pure. A compiled zone learns which of its RRs name a health
// check (attachHealth); given the set of checks that are down, gateZone derives the zone as it is
// served: every RRset without the RRs whose check is down, except that an RRset whose RRs are all
// down is served whole (fail open, as PowerDNS's ifportup does: an empty answer helps nobody, and
// a check that cannot reach anything is as likely broken as every server). RRs that name no check
// are always served, so an RRset keeps them when its gated RRs are down.
//
// The gated zone shares everything with the stored one but the nodes it changes (an overlay over
// the node map), and remembers it as `ungated`: transfers and the seed file serve the stored zone,
// since secondaries cannot run the checks.
import { parseRdata, type RdataPart } from '../dns/rdata.js';
import { resolveZoneName } from '../dns/name.js';
import { RRsetMap, type CompiledZone, type RR, type RRset, type StoredRecord, type WirePart, type ZoneHealth, type ZoneNode } from './zone.js';

function sameParts(a: readonly WirePart[], b: readonly RdataPart[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x instanceof Uint8Array || y instanceof Uint8Array) {
      if (!(x instanceof Uint8Array && y instanceof Uint8Array) || x.length !== y.length) return false;
      for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
    } else {
      if (x.relative !== y.relative || x.labels.length !== y.labels.length) return false;
      for (let j = 0; j < x.labels.length; j++) if (x.labels[j] !== y.labels[j]) return false;
    }
  }
  return true;
}

/** The zone with the checks its records name (`gates`: the records that name one, as stored).
 *  A gate whose record is not in the zone (it did not parse) is ignored. */
export function attachHealth(zone: CompiledZone, gates: readonly StoredRecord[] | undefined): CompiledZone {
  if (!gates || gates.length === 0) return zone;
  const checks = new Set<number>();
  const sets = new Map<string, Map<number, number[]>>();
  for (const g of gates) {
    if (!g.check) continue;
    const key = g.owner === '@' ? '' : g.owner;
    const set = zone.nodes.get(key)?.rrsets.get(g.type);
    if (!set) continue;
    let parts: readonly RdataPart[];
    try { parts = parseRdata(g.type, g.rdata, resolveZoneName); } catch { continue; }
    const i = set.rrs.findIndex((rr) => sameParts(rr.parts, parts));
    if (i < 0) continue;
    let byType = sets.get(key);
    if (!byType) sets.set(key, (byType = new Map()));
    let ids = byType.get(g.type);
    if (!ids) byType.set(g.type, (ids = new Array<number>(set.rrs.length).fill(0)));
    ids[i] = g.check;
    checks.add(g.check);
  }
  if (checks.size === 0) return zone;
  const health: ZoneHealth = { checks, sets };
  return { ...zone, health };
}

/** Node map with some nodes replaced; reads fall through to the stored zone's map. */
class OverlayMap implements ReadonlyMap<string, ZoneNode> {
  constructor(private readonly base: ReadonlyMap<string, ZoneNode>, private readonly over: ReadonlyMap<string, ZoneNode>) {}
  get(k: string): ZoneNode | undefined { return this.over.get(k) ?? this.base.get(k); }
  has(k: string): boolean { return this.base.has(k); }
  get size(): number { return this.base.size; }
  *entries(): MapIterator<[string, ZoneNode]> { for (const [k, v] of this.base) yield [k, this.over.get(k) ?? v]; }
  *keys(): MapIterator<string> { yield* this.base.keys(); }
  *values(): MapIterator<ZoneNode> { for (const [k, v] of this.base) yield this.over.get(k) ?? v; }
  [Symbol.iterator](): MapIterator<[string, ZoneNode]> { return this.entries(); }
  forEach(fn: (value: ZoneNode, key: string, map: ReadonlyMap<string, ZoneNode>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}

/** True when one of the zone's checks is in `down`. */
export function gatedBy(zone: CompiledZone, down: ReadonlySet<number>): boolean {
  const h = (zone.ungated ?? zone).health;
  if (!h || down.size === 0) return false;
  for (const c of h.checks) if (down.has(c)) return true;
  return false;
}

/** Whether one of the zone's checks is down in one set and not in the other. */
export function gatingChanged(zone: CompiledZone, before: ReadonlySet<number>, after: ReadonlySet<number>): boolean {
  const h = (zone.ungated ?? zone).health;
  if (h) for (const c of h.checks) if (before.has(c) !== after.has(c)) return true;
  return false;
}

/** The zone as served while the checks in `down` are down: the stored zone itself when none of
 *  its checks is (or when every gated RRset would fail open). */
export function gateZone(zone: CompiledZone, down: ReadonlySet<number>): CompiledZone {
  const stored = zone.ungated ?? zone;
  const h = stored.health;
  if (!h || !gatedBy(stored, down)) return stored;
  const over = new Map<string, ZoneNode>();
  for (const [key, byType] of h.sets) {
    const node = stored.nodes.get(key);
    if (!node) continue;
    let changed = false;
    const sets: RRset[] = [];
    for (const set of node.rrsets.values()) {
      const ids = byType.get(set.type);
      const keep: RR[] = ids ? set.rrs.filter((_, i) => !(ids[i] && down.has(ids[i]))) : set.rrs.slice();
      // Nothing down: as stored. Everything down: fail open, as stored.
      if (keep.length === set.rrs.length || keep.length === 0) sets.push(set);
      else { sets.push({ type: set.type, rrs: keep, compress: set.compress }); changed = true; }
    }
    if (changed) over.set(key, { ...node, rrsets: new RRsetMap(sets) });
  }
  if (over.size === 0) return stored;
  return { ...stored, nodes: new OverlayMap(stored.nodes, over), ungated: stored };
}
