// Zones that include zones (issue 20): the records a zone serves are its own plus those of the
// zones it includes. Per owner and type the first source in precedence order wins: the zone
// itself, then each include in order, each include's own includes right after it (a depth-first
// walk, so chains flatten and an earlier include wins over a later one). A CNAME stays alone at
// its owner (RFC 1034 3.6.2, RFC 2181 10.1): the first source holding anything at an owner decides
// whether the owner is a CNAME (only its CNAME is kept) or not (no included CNAME is kept there).
// Owners and rdata are relative to the apex, so an included record resolves against the domain
// that serves the including zone, like the zone's own. Pure.
import type { ScheduledRRset, StoredRecord } from './zone.js';

const CNAME = 5;

/** What one zone is made of on its own. */
export interface OwnSource { readonly records: readonly StoredRecord[]; readonly schedules: readonly ScheduledRRset[] }

/** The zones a zone includes, flattened: depth first, each zone once (its first place wins), the
 *  zone itself left out. Cycles (refused when written, migrations/015) cannot loop here. */
export function includeOrder(id: number, includesOf: (id: number) => readonly number[] | undefined): number[] {
  const seen = new Set<number>([id]);
  const out: number[] = [];
  const walk = (z: number) => {
    for (const i of includesOf(z) ?? []) {
      if (seen.has(i)) continue;
      seen.add(i);
      out.push(i);
      walk(i);
    }
  };
  walk(id);
  return out;
}

const keyOf = (owner: string, type: number) => owner + '\u0000' + type;

/** The records of `sources` (highest precedence first) as served: the winner's RRset at each owner
 *  and type, the CNAME rule at each owner. Records keep their source's order. */
export function mergeRecords(sources: readonly (readonly StoredRecord[])[]): StoredRecord[] {
  const winner = new Map<string, number>(); // owner+type -> source index
  const topAt = new Map<string, number>(); // owner -> first source with anything there
  const cnameAt = new Set<string>(); // owners whose deciding source has a CNAME
  sources.forEach((recs, i) => {
    for (const r of recs) {
      const k = keyOf(r.owner, r.type);
      if (!winner.has(k)) winner.set(k, i);
      if (!topAt.has(r.owner)) topAt.set(r.owner, i);
      if (r.type === CNAME && topAt.get(r.owner) === i) cnameAt.add(r.owner);
    }
  });
  const out: StoredRecord[] = [];
  sources.forEach((recs, i) => {
    for (const r of recs) {
      if (winner.get(keyOf(r.owner, r.type)) !== i) continue;
      const top = topAt.get(r.owner)!;
      if (cnameAt.has(r.owner) ? !(r.type === CNAME && i === top) : r.type === CNAME && i !== top) continue;
      out.push(r);
    }
  });
  return out;
}

/** A source's records after its first `due` scheduled changes (sorted by time): each replaces its
 *  owner and type, the last one of a key winning (as zoneAt in zone.ts does). */
function recordsAfter(src: OwnSource, sorted: readonly ScheduledRRset[], due: number): readonly StoredRecord[] {
  if (due === 0) return src.records;
  const applied = sorted.slice(0, due);
  const last = new Map<string, ScheduledRRset>();
  for (const c of applied) last.set(keyOf(c.owner, c.type), c);
  const out = src.records.filter((r) => !last.has(keyOf(r.owner, r.type)));
  for (const c of last.values()) for (const rdata of c.rdatas) out.push({ owner: c.owner, type: c.type, ttl: c.ttl, rdata });
  return out;
}

/** RRsets by owner and type, each as its TTL and rdatas joined (to tell whether it changed). */
function rrsetsOf(records: readonly StoredRecord[]): Map<string, { owner: string; type: number; ttl: number; rdatas: string[] }> {
  const m = new Map<string, { owner: string; type: number; ttl: number; rdatas: string[] }>();
  for (const r of records) {
    const k = keyOf(r.owner, r.type);
    const s = m.get(k);
    // RFC 2181 5.2: one TTL per RRset; the lowest is what the zone serves when they differ.
    if (s) { s.rdatas.push(r.rdata); if (r.ttl < s.ttl) s.ttl = r.ttl; } else m.set(k, { owner: r.owner, type: r.type, ttl: r.ttl, rdatas: [r.rdata] });
  }
  return m;
}

/** The zone as served: `own` with `included` (in include order, see includeOrder) merged under it.
 *  Scheduled RRset changes (RRset-level PZC) of any source keep their meaning on the result: they
 *  become scheduled changes of the effective RRsets, at the times they change what is served (an
 *  included zone's change hidden by an override changes nothing and is dropped). */
export function flattenZone(own: OwnSource, included: readonly OwnSource[]): OwnSource {
  if (included.length === 0) return own;
  const sources = [own, ...included];
  const sorted = sources.map((s) => [...s.schedules].sort((a, b) => a.at.getTime() - b.at.getTime()));
  const records = mergeRecords(sources.map((s) => s.records));
  const times = [...new Set(sorted.flat().map((c) => c.at.getTime()))].sort((a, b) => a - b);
  if (times.length === 0) return { records, schedules: [] };
  const schedules: ScheduledRRset[] = [];
  let before = rrsetsOf(records);
  for (const t of times) {
    const now = rrsetsOf(mergeRecords(sources.map((s, i) => recordsAfter(s, sorted[i], sorted[i].filter((c) => c.at.getTime() <= t).length))));
    const at = new Date(t);
    for (const [k, s] of now) {
      const b = before.get(k);
      if (!b || b.ttl !== s.ttl || b.rdatas.join('\u0000') !== s.rdatas.join('\u0000')) schedules.push({ owner: s.owner, type: s.type, ttl: s.ttl, rdatas: s.rdatas, at });
    }
    for (const [k, b] of before) if (!now.has(k)) schedules.push({ owner: b.owner, type: b.type, ttl: b.ttl, rdatas: [], at });
    before = now;
  }
  return { records, schedules };
}
