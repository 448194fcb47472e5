// Rows -> Snapshot. The first snapshot from everything; later ones from the previous snapshot and
// a delta, sharing every domain and zone the delta did not touch.
import type { StoredRecord } from '../store/records.js';
import { Snapshot } from './snapshot.js';
import { buildDomain, type Domain, type DomainRow } from './domain.js';
import { compileZone, CompileCache, type CompiledZone, type ScheduledRRset } from './zone.js';

export interface ZoneSource { records: readonly StoredRecord[]; schedules: readonly ScheduledRRset[] }

export type BadRecordHandler = (zoneId: number, r: StoredRecord, err: Error) => void;

function addDomains(rows: readonly DomainRow[], zones: ReadonlyMap<number, CompiledZone>, into: Map<string, Domain>): void {
  for (const row of rows) {
    const zone = zones.get(row.zone_id);
    if (!zone) continue; // cannot happen with a consistent read; never serve half a domain
    const pzc = row.pzc_zone_id !== null ? zones.get(row.pzc_zone_id) : undefined;
    into.set(row.name, buildDomain(row, zone, pzc));
  }
}

export function buildSnapshot(domains: readonly DomainRow[], sources: ReadonlyMap<number, ZoneSource>,
  onBad: BadRecordHandler = () => undefined, now = Date.now()): Snapshot {
  const zones = new Map<number, CompiledZone>();
  const cache = new CompileCache(); // shared by every zone of this build, dropped with it
  for (const [id, z] of sources) zones.set(id, compileZone(id, z.records, z.schedules, (r, e) => onBad(id, r, e), cache));
  const byName = new Map<string, Domain>();
  addDomains(domains, zones, byName);
  return new Snapshot(byName, zones, now);
}

export interface SnapshotDelta {
  domains: readonly DomainRow[];
  goneDomains: readonly string[];
  zones: ReadonlyMap<number, ZoneSource>;
  changedZones: readonly number[];
}

export function applyDelta(old: Snapshot, delta: SnapshotDelta, onBad: BadRecordHandler = () => undefined, now = Date.now()): Snapshot {
  const zones = new Map(old.zones);
  for (const id of delta.changedZones) zones.delete(id);
  const cache = new CompileCache();
  for (const [id, z] of delta.zones) zones.set(id, compileZone(id, z.records, z.schedules, (r, e) => onBad(id, r, e), cache));
  const domains = new Map(old.domains);
  for (const name of delta.goneDomains) domains.delete(name);
  addDomains(delta.domains, zones, domains);
  // Forget zones no domain uses any more.
  const used = new Set<number>();
  for (const d of domains.values()) {
    used.add(d.zoneId);
    if (d.pzc) used.add(d.pzc.zoneId);
  }
  for (const id of zones.keys()) if (!used.has(id)) zones.delete(id);
  return new Snapshot(domains, zones, now);
}
