// Snapshot -> rows: the stored form (domains, zone records, scheduled RRset changes) a snapshot was
// compiled from, read back out of it. A worker that starts while the database is down is handed
// these by a live sibling (cluster/seed.ts) and compiles them as if it had read them from the store.
import { formatRdata, type RdataPart } from '../dns/rdata.js';
import type { Snapshot } from './snapshot.js';
import type { DomainRow } from './domain.js';
import type { CompiledZone, ScheduledRRset, StoredRecord, WirePart } from './zone.js';

export interface ZoneRows { id: number; serial: number; records: StoredRecord[]; schedules: ScheduledRRset[]; gates: StoredRecord[] }

const asRdata = (parts: readonly WirePart[]): RdataPart[] =>
  parts.map((p) => (p instanceof Uint8Array ? p : { labels: p.labels.slice(), relative: p.relative }));

/** The records of a compiled zone. A zone with pending RRset changes kept its source: that, as is.
 *  Otherwise every RR of every node, in the order served (the order read from the store). */
export function zoneRows(gated: CompiledZone): ZoneRows {
  const zone = gated.ungated ?? gated; // as stored: the health state is written beside (feed/seed.ts)
  const gates: StoredRecord[] = [];
  for (const [key, byType] of zone.health?.sets ?? []) {
    const owner = key === '' ? '@' : key;
    for (const [type, ids] of byType) {
      const set = zone.nodes.get(key)?.rrsets.get(type);
      ids.forEach((check, i) => {
        const rr = set?.rrs[i];
        if (check && rr) gates.push({ owner, type, ttl: rr.ttl, rdata: formatRdata(type, asRdata(rr.parts)), check });
      });
    }
  }
  if (zone.source) return { id: zone.id, serial: zone.serial, records: zone.source.records.slice(), schedules: zone.source.schedules.slice(), gates };
  const records: StoredRecord[] = [];
  for (const node of zone.nodes.values()) {
    const owner = node.key === '' ? '@' : node.key;
    for (const set of node.rrsets.values()) {
      for (const rr of set.rrs) records.push({ owner, type: set.type, ttl: rr.ttl, rdata: formatRdata(set.type, asRdata(rr.parts)) });
    }
  }
  return { id: zone.id, serial: zone.serial, records, schedules: [], gates };
}

/** The domain rows a snapshot serves. */
export function* domainRows(snap: Snapshot): Generator<DomainRow> {
  for (const e of snap.entries.values()) {
    yield {
      id: e.id, name: e.name, zone_id: e.zoneId, delegation_only: e.delegationOnly, serial_offset: e.serialOffset,
      pzc_zone_id: e.pzcZoneId ?? null, pzc_at: e.pzcAt !== undefined ? new Date(e.pzcAt * 1000) : null,
    };
  }
}
