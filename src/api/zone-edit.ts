// The one way the API changes a zone's records: lock the zone, check If-Match, compute the new
// content, check the zone-wide rules on it, write the difference. All in the caller's transaction.
import type { FastifyRequest } from 'fastify';
import type { Client } from '../store/db.js';
import { lockZone, zoneUse, zoneVersion, type Zone } from '../store/zones.js';
import { checkZoneContent, longestApexWire, loadZoneRecords, loadZoneRecordsJson, replaceZoneRecords, replaceZoneRecordColumns, type StoredRecord } from '../store/records.js';
import type { RecordColumns } from './record-columns.js';
import type { ZoneRules } from './rrset-batch.js';
import { TYPE } from '../dns/constants.js';
import { ApiError, notFound } from './errors.js';

export const etag = (version: number) => `"${version}"`;

/** Throws 412 unless If-Match (when sent) names the current version: `"7"`, `W/"7"`, `7`, `*` or a list. */
export function checkIfMatch(req: FastifyRequest, version: number): void {
  const h = req.headers['if-match'];
  if (h === undefined) return;
  const tags = String(h).split(',').map((t) => t.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1'));
  if (tags.includes('*') || tags.includes(String(version))) return;
  throw new ApiError('precondition_failed', `the zone is at version ${version}, not ${String(h)}`, [{ path: 'If-Match', problem: `current version is ${etag(version)}` }]);
}

export async function lockZoneOr404(c: Client, tenantId: number | null, name: string): Promise<Zone> {
  const z = tenantId === null ? undefined : await lockZone(c, tenantId, name);
  if (!z) throw notFound(`zone "${name}"`);
  return z;
}

/** Replaces the zone's content by edit(current), enforcing the rules; returns the new version. */
export async function editZone(
  c: Client, req: FastifyRequest, tenantId: number | null, zoneName: string,
  edit: (current: StoredRecord[]) => StoredRecord[] | Promise<StoredRecord[]>, o: { requireApex?: boolean } = {},
): Promise<{ zone: Zone; version: number }> {
  const zone = await lockZoneOr404(c, tenantId, zoneName);
  checkIfMatch(req, zone.version);
  const current = await loadZoneRecords(c, zone.id);
  const next = await edit(current);
  const use = await zoneUse(c, zone.id);
  // A zone that a domain serves, or that already has its apex, keeps an apex SOA and NS; an
  // unserved zone being built up may lack them until then.
  const hadApex = current.some((r) => r.owner === '@' && r.type === TYPE.SOA) && current.some((r) => r.owner === '@' && r.type === TYPE.NS);
  checkZoneContent(next, {
    delegationOnly: use.delegationOnly, requireApex: o.requireApex ?? (use.served || hadApex), apexWireLength: longestApexWire(use.domains),
  });
  await replaceZoneRecords(c, zone.id, next);
  return { zone, version: await zoneVersion(c, zone.id) };
}

/** editZone for a large edit: the zone's records are read as one JSON text, `compute` (in a thread:
 *  off-thread.ts) returns the new content, checked against `rules`, as columns, and PostgreSQL
 *  writes the difference. The event loop only passes strings along. */
export async function editZoneColumns<T extends RecordColumns>(
  c: Client, req: FastifyRequest, tenantId: number | null, zoneName: string,
  compute: (current: string, rules: ZoneRules) => Promise<T>, timeoutMs: number,
): Promise<{ zone: Zone; version: number; out: T }> {
  const zone = await lockZoneOr404(c, tenantId, zoneName);
  checkIfMatch(req, zone.version);
  const current = await loadZoneRecordsJson(c, zone.id);
  const use = await zoneUse(c, zone.id);
  const out = await compute(current, { delegationOnly: use.delegationOnly, served: use.served, apexWireLength: longestApexWire(use.domains) });
  await replaceZoneRecordColumns(c, zone.id, out, timeoutMs);
  return { zone, version: await zoneVersion(c, zone.id), out };
}

// Kept here for the routes that import them from the one way a zone changes.
export { toRRsets, rrsetKey, type RRset } from './rrset-batch.js';

export const without = (rs: StoredRecord[], k: { owner: string; type: number }) => rs.filter((r) => r.owner !== k.owner || r.type !== k.type);
