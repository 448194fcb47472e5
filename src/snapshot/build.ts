// Rows -> Snapshot. The first snapshot from everything; later ones from the previous snapshot and
// a delta, sharing every domain and zone the delta did not touch.
import type { StoredRecord } from '../store/records.js';
import { Snapshot } from './snapshot.js';
import { buildDomain, type Domain, type DomainRow } from './domain.js';
import { LayeredMap } from './layered-map.js';
import { compileZone, CompileCache, type CompiledZone, type ScheduledRRset } from './zone.js';

export interface ZoneSource { records: readonly StoredRecord[]; schedules: readonly ScheduledRRset[] }

export type BadRecordHandler = (zoneId: number, r: StoredRecord, err: Error) => void;

/** The first snapshot, built as zones arrive (the load streams them in batches): compiled zones
 *  are kept, their rows can go. */
export class SnapshotBuilder {
  private readonly zones = new Map<number, CompiledZone>();
  private readonly cache = new CompileCache(); // shared by every zone of this build, dropped with it

  constructor(private readonly onBad: BadRecordHandler = () => undefined) {}

  addZones(sources: ReadonlyMap<number, ZoneSource>): void {
    for (const [id, z] of sources) this.zones.set(id, compileZone(id, z.records, z.schedules, (r, e) => this.onBad(id, r, e), this.cache));
  }

  finish(domains: readonly DomainRow[], now = Date.now()): Snapshot {
    const zones = this.zones;
    const byName = new Map<string, Domain>();
    const refs = new Map<number, number>();
    for (const row of domains) {
      const d = domainOf(row, (id) => zones.get(id));
      if (!d) continue;
      byName.set(row.name, d);
      for (const id of zonesOf(d)) refs.set(id, (refs.get(id) ?? 0) + 1);
    }
    return new Snapshot(LayeredMap.of(byName), LayeredMap.of(zones), now, LayeredMap.of(refs));
  }
}

export function buildSnapshot(domains: readonly DomainRow[], sources: ReadonlyMap<number, ZoneSource>,
  onBad: BadRecordHandler = () => undefined, now = Date.now()): Snapshot {
  const b = new SnapshotBuilder(onBad);
  b.addZones(sources);
  return b.finish(domains, now);
}

/** The domain of a row, or undefined when its zone is missing (cannot happen with a consistent
 *  read; never serve half a domain). */
function domainOf(row: DomainRow, zoneOf: (id: number) => CompiledZone | undefined): Domain | undefined {
  const zone = zoneOf(row.zone_id);
  if (!zone) return undefined;
  const pzc = row.pzc_zone_id !== null ? zoneOf(row.pzc_zone_id) : undefined;
  return buildDomain(row, zone, pzc);
}

function zonesOf(d: Domain): number[] {
  return d.pzc && d.pzc.zoneId !== d.zoneId ? [d.zoneId, d.pzc.zoneId] : [d.zoneId];
}

/** Nodes of zones leaving the snapshot in one delta from which the maps are folded at once (a copy
 *  of the maps costs about what compiling a zone of this size does). */
const FOLD_NODES = 10_000;

export interface SnapshotDelta {
  domains: readonly DomainRow[];
  goneDomains: readonly string[];
  zones: ReadonlyMap<number, ZoneSource>;
  changedZones: readonly number[];
}

/** The previous snapshot with a delta applied. Costs what the delta touches (plus an occasional
 *  fold of the maps' change layers), not the size of the snapshot; `old` is left as it was. */
export function applyDelta(old: Snapshot, delta: SnapshotDelta, onBad: BadRecordHandler = () => undefined, now = Date.now()): Snapshot {
  const cache = new CompileCache();
  const zoneChanges = new Map<number, CompiledZone | undefined>();
  for (const id of delta.changedZones) zoneChanges.set(id, undefined);
  for (const [id, z] of delta.zones) zoneChanges.set(id, compileZone(id, z.records, z.schedules, (r, e) => onBad(id, r, e), cache));
  // Zones as they are after the change, for binding domains.
  const zoneOf = (id: number) => (zoneChanges.has(id) ? zoneChanges.get(id) : old.zones.get(id));

  const domainChanges = new Map<string, Domain | undefined>();
  const refDelta = new Map<number, number>();
  const ref = (d: Domain | undefined, by: number) => {
    if (d) for (const id of zonesOf(d)) refDelta.set(id, (refDelta.get(id) ?? 0) + by);
  };
  let maxLabels = old.maxLabels;
  let namesAdded = false;
  const replace = (name: string, d: Domain | undefined) => {
    ref(domainChanges.has(name) ? domainChanges.get(name) : old.domains.get(name), -1);
    ref(d, +1);
    domainChanges.set(name, d);
    if (d && d.labels.length > maxLabels) maxLabels = d.labels.length;
    if (d && !old.domains.has(name)) namesAdded = true;
  };
  for (const name of delta.goneDomains) replace(name, undefined);
  for (const row of delta.domains) {
    const d = domainOf(row, zoneOf);
    if (d) replace(row.name, d);
  }
  // Forget zones no domain uses any more (the old code walked every domain for this).
  const refsAfter = (id: number) => (old.zoneRefs.get(id) ?? 0) + (refDelta.get(id) ?? 0);
  const refChanges: Array<[number, number | undefined]> = [];
  for (const id of refDelta.keys()) refChanges.push([id, refsAfter(id) > 0 ? refsAfter(id) : undefined]);
  for (const id of [...zoneChanges.keys(), ...refDelta.keys()]) if (refsAfter(id) <= 0) zoneChanges.set(id, undefined);
  // Zones leaving (deleted, replaced by a new compile, or no longer used): when they are large, fold
  // the maps now so that nothing keeps them (and the Domains bound to them) reachable.
  let leaving = 0;
  for (const [id, z] of zoneChanges) if (z !== old.zones.get(id)) leaving += old.zones.get(id)?.nodes.size ?? 0;
  const fold = leaving >= FOLD_NODES;
  return new Snapshot(old.domains.with(domainChanges, fold), old.zones.with(zoneChanges, fold), now, old.zoneRefs.with(refChanges), maxLabels,
    namesAdded ? undefined : old.namesEpoch);
}
