// Rows -> Snapshot. The first snapshot from everything; later ones from the previous snapshot and
// a delta, sharing every domain and zone the delta did not touch. A zone edit is a delta of one
// zone: the domains served from it are bound to the new zone on lookup (snapshot.ts), not rebuilt.
import { Snapshot, type SnapshotHealth } from './snapshot.js';
import { attachHealth, gateZone, gatingChanged } from './health.js';
import { entryOf, type DomainEntry, type DomainRow } from './domain.js';
import { LayeredMap } from './layered-map.js';
import { compileZone, compilePackedZone, compilePackedZoneSteps, prepareZone, CompileCache, type CompiledZone, type ScheduledRRset, type StoredRecord } from './zone.js';
import { flattenZone, type OwnSource } from './includes.js';
import type { PackedRecords } from './packed.js';

export interface ZoneSource {
  records: readonly StoredRecord[];
  schedules: readonly ScheduledRRset[];
  /** zones.serial; when absent, the serial of the zone's own SOA record. */
  serial?: number;
  /** The records that name a health check (with `check` set). */
  gates?: readonly StoredRecord[];
  /** The zones it includes, in include order (includes.ts includeOrder): served under its own. */
  included?: readonly OwnSource[];
  /** The records packed (packed.ts), as the store reads them; `records` unpacks them when asked. */
  packed?: PackedRecords;
}

export type BadRecordHandler = (zoneId: number, r: StoredRecord, err: Error) => void;

/** Records from which a zone arriving in a delta is compiled in steps (compileLarge). Compiled at
 *  once, a zone held the answering loop about 13 µs per record: 270 ms at 20,000 records, on every
 *  edit to it; below 2,000 records it is under about 25 ms. */
export const LARGE_ZONE_RECORDS = 2_000;
/** Nodes per step: 2-5 ms each (a step of 2,000 took 13-31 ms). */
export const NODES_PER_STEP = 500;

/** The zones of `sources` that compileLarge would compile in steps: packed, nothing pending or
 *  included, at least LARGE_ZONE_RECORDS records. */
export function largeZones(sources: ReadonlyMap<number, ZoneSource>): number[] {
  const out: number[] = [];
  for (const [id, z] of sources) if (z.packed && z.packed.count >= LARGE_ZONE_RECORDS && plainZone(z)) out.push(id);
  return out;
}

/** A large zone compiled in steps of NODES_PER_STEP nodes (a few ms each): the caller turns the
 *  event loop between them, so an edit to a zone of 20,000 records (0.3 s of compile) or a
 *  400,000-record upload (seconds) does not stop the answers of the process that takes it in.
 *  The result goes to applyDelta in `SnapshotDelta.compiled`. */
export function* compileLarge(id: number, z: ZoneSource, onBad: BadRecordHandler = () => undefined): Generator<void, CompiledZone> {
  const zone = yield* compilePackedZoneSteps(id, z.packed!, (r, e) => onBad(id, r, e), new CompileCache(), z.serial, NODES_PER_STEP);
  return attachHealth(zone, z.gates);
}

const plainZone = (z: ZoneSource) => !z.included?.length && z.schedules.length === 0;

function compile(id: number, z: ZoneSource, onBad: BadRecordHandler, cache: CompileCache): CompiledZone {
  // Nearly every zone: nothing pending, nothing included, compiled straight from the packed text.
  if (z.packed && plainZone(z)) {
    return attachHealth(compilePackedZone(id, z.packed, (r, e) => onBad(id, r, e), cache, z.serial), z.gates);
  }
  // Zones with RRset changes pending are compiled as they will be after each, now (the query path
  // only reads).
  // A zone with includes is compiled from its effective records (includes.ts): the query path
  // never looks at includes. Included records that won the merge keep the health check they name.
  const eff = z.included?.length ? flattenZone(z, z.included) : z;
  const gates = z.included?.length ? [...(z.gates ?? []), ...eff.records.filter((r) => r.check)] : z.gates;
  return attachHealth(prepareZone(compileZone(id, eff.records, eff.schedules, (r, e) => onBad(id, r, e), cache, z.serial)), gates);
}

/** The first snapshot, built as zones arrive (the load streams them in batches): compiled zones
 *  are kept, their rows can go. The domains' entries can be built in steps meanwhile
 *  (prepareDomains), while the load waits for the store's next batch. */
export class SnapshotBuilder {
  private readonly zones = new Map<number, CompiledZone>();
  private readonly cache = new CompileCache(); // shared by every zone of this build, dropped with it
  private readonly byName = new Map<string, DomainEntry>();
  private readonly refs = new Map<number, number>();
  /** The rows prepareDomains works through, and how many of them have entries. */
  private rows: readonly DomainRow[] = [];
  private built = 0;
  private maxLabels = 0;

  constructor(private readonly onBad: BadRecordHandler = () => undefined) {}

  addZones(sources: ReadonlyMap<number, ZoneSource>): void {
    for (const [id, z] of sources) this.zones.set(id, compile(id, z, this.onBad, this.cache));
  }

  /** Builds the entries of up to `count` more of `domains` (the rows finish() will be given); false
   *  when all have one. At a million domains the entries cost about 4 s of the load, which spent
   *  about as long waiting for PostgreSQL between batches (bench/RESULTS.md). */
  prepareDomains(domains: readonly DomainRow[], count: number): boolean {
    if (domains !== this.rows) { this.byName.clear(); this.refs.clear(); this.rows = domains; this.built = 0; this.maxLabels = 0; }
    const end = Math.min(domains.length, this.built + count);
    for (let i = this.built; i < end; i++) {
      const e = entryOf(domains[i]);
      this.byName.set(e.name, e);
      if (e.labels.length > this.maxLabels) this.maxLabels = e.labels.length;
      for (const id of zonesOf(e)) this.refs.set(id, (this.refs.get(id) ?? 0) + 1);
    }
    this.built = end;
    return end < domains.length;
  }

  /** `down`: the health checks that are down now. The builder is spent: the snapshot owns its maps. */
  finish(domains: readonly DomainRow[], down: readonly number[] = []): Snapshot {
    const zones = this.zones;
    const health: SnapshotHealth = { down: new Set(down), gatedZones: new Set() };
    for (const [id, z] of zones) {
      if (!z.health) continue;
      (health.gatedZones as Set<number>).add(id);
      zones.set(id, gateZone(z, health.down));
    }
    this.prepareDomains(domains, domains.length);
    const { byName, refs } = this;
    // A domain whose zone was not read cannot happen with a consistent read; checked per zone
    // referenced, and only then per domain.
    let consistent = true;
    for (const id of refs.keys()) if (!zones.has(id)) { consistent = false; break; }
    if (!consistent) {
      for (const [name, e] of byName) {
        if (zones.has(e.zoneId)) continue;
        byName.delete(name);
        for (const id of zonesOf(e)) refs.set(id, refs.get(id)! - 1);
      }
      for (const [id, n] of refs) if (n === 0) refs.delete(id);
    }
    // maxLabels is a bound, never too small, also over the domains left out.
    return new Snapshot(LayeredMap.of(byName), LayeredMap.of(zones), LayeredMap.of(refs), this.maxLabels, undefined, health);
  }
}

export function buildSnapshot(domains: readonly DomainRow[], sources: ReadonlyMap<number, ZoneSource>,
  onBad: BadRecordHandler = () => undefined, down: readonly number[] = []): Snapshot {
  const b = new SnapshotBuilder(onBad);
  b.addZones(sources);
  return b.finish(domains, down);
}

function zonesOf(e: DomainEntry): number[] {
  return e.pzcZoneId !== undefined && e.pzcZoneId !== e.zoneId ? [e.zoneId, e.pzcZoneId] : [e.zoneId];
}

/** Nodes of zones leaving the snapshot in one delta from which the maps are folded at once (a copy
 *  of the maps costs about what compiling a zone of this size does). */
const FOLD_NODES = 10_000;

export interface SnapshotDelta {
  /** Current rows of the domains whose own row changed (not of domains on a changed zone). */
  domains: readonly DomainRow[];
  goneDomains: readonly string[];
  /** Fresh data of changed zones still in use, and of zones newly referenced. */
  zones: ReadonlyMap<number, ZoneSource>;
  changedZones: readonly number[];
  /** Every health check that is down, when a state changed (undefined: as before). */
  down?: readonly number[];
  /** Zones of `zones` compiled already (compileLarge), by id. */
  compiled?: ReadonlyMap<number, CompiledZone>;
}

/** The previous snapshot with a delta applied. Costs what the delta touches (plus an occasional
 *  fold of the maps' change layers), not the size of the snapshot nor the number of domains on a
 *  changed zone; `old` is left as it was. */
export function applyDelta(old: Snapshot, delta: SnapshotDelta, onBad: BadRecordHandler = () => undefined): Snapshot {
  const cache = new CompileCache();
  const zoneChanges = new Map<number, CompiledZone | undefined>();
  for (const id of delta.changedZones) if (old.zones.has(id)) zoneChanges.set(id, undefined);
  for (const [id, z] of delta.zones) zoneChanges.set(id, delta.compiled?.get(id) ?? compile(id, z, onBad, cache));
  const health = gateChanges(old, delta, zoneChanges);
  const zoneKnown = (id: number) => (zoneChanges.has(id) ? zoneChanges.get(id) !== undefined : old.zones.has(id));

  const entryChanges = new Map<string, DomainEntry | undefined>();
  const refDelta = new Map<number, number>();
  const ref = (e: DomainEntry | undefined, by: number) => {
    if (e) for (const id of zonesOf(e)) refDelta.set(id, (refDelta.get(id) ?? 0) + by);
  };
  let maxLabels = old.maxLabels;
  let namesAdded = false;
  const replace = (name: string, e: DomainEntry | undefined) => {
    ref(entryChanges.has(name) ? entryChanges.get(name) : old.entries.get(name), -1);
    ref(e, +1);
    entryChanges.set(name, e);
    if (e && e.labels.length > maxLabels) maxLabels = e.labels.length;
    if (e && !old.entries.has(name)) namesAdded = true;
  };
  for (const name of delta.goneDomains) replace(name, undefined);
  for (const row of delta.domains) replace(row.name, zoneKnown(row.zone_id) ? entryOf(row) : undefined);
  // Forget zones no domain uses any more, from the reference counts: walking every domain would
  // cost the size of the snapshot on each delta.
  const refsAfter = (id: number) => (old.zoneRefs.get(id) ?? 0) + (refDelta.get(id) ?? 0);
  const refChanges: Array<[number, number | undefined]> = [];
  for (const id of refDelta.keys()) refChanges.push([id, refsAfter(id) > 0 ? refsAfter(id) : undefined]);
  for (const id of [...zoneChanges.keys(), ...refDelta.keys()]) if (refsAfter(id) <= 0) zoneChanges.set(id, undefined);
  // Zones leaving (deleted, replaced by a new compile, or no longer used): when they are large, fold
  // the maps now, so that no tombstoned base entry keeps them reachable (a zone directly, a domain
  // entry through the Domain bound to it).
  let leaving = 0;
  // (A zone gated anew, or no longer, keeps its stored form: nothing leaves.)
  const stored = (z: CompiledZone | undefined) => z?.ungated ?? z;
  for (const [id, z] of zoneChanges) if (stored(z) !== stored(old.zones.get(id))) leaving += old.zones.get(id)?.nodes.size ?? 0;
  const fold = leaving >= FOLD_NODES;
  let gatedZones = health.gatedZones;
  for (const [id, z] of zoneChanges) {
    if (z || !gatedZones.has(id)) continue;
    if (gatedZones === old.health.gatedZones) gatedZones = new Set(gatedZones);
    (gatedZones as Set<number>).delete(id);
  }
  return new Snapshot(old.entries.with(entryChanges, fold), old.zones.with(zoneChanges, fold), old.zoneRefs.with(refChanges), maxLabels,
    namesAdded ? undefined : old.namesEpoch, { down: health.down, gatedZones });
}

/** Health gating of a delta: zones compiled in it are gated by the checks down now; when the set
 *  of checks down changed, every zone whose records name a check is gated again. A zone whose
 *  gating did not change keeps its object (its domains, and their cached answers, stay valid). */
function gateChanges(old: Snapshot, delta: SnapshotDelta, zoneChanges: Map<number, CompiledZone | undefined>): SnapshotHealth {
  const down = delta.down ? new Set(delta.down) : old.health.down;
  let gatedZones = old.health.gatedZones;
  const mutable = () => (gatedZones === old.health.gatedZones ? (gatedZones = new Set(gatedZones)) : gatedZones) as Set<number>;
  for (const [id, z] of zoneChanges) {
    if (!z) continue;
    if (z.health) { if (!gatedZones.has(id)) mutable().add(id); zoneChanges.set(id, gateZone(z, down)); }
    else if (gatedZones.has(id)) mutable().delete(id);
  }
  if (delta.down) {
    for (const id of gatedZones) {
      if (zoneChanges.has(id)) continue;
      const cur = old.zones.get(id);
      if (!cur || !gatingChanged(cur, old.health.down, down)) continue;
      zoneChanges.set(id, gateZone(cur, down));
    }
  }
  return { down, gatedZones };
}
