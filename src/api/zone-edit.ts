// The one way the API changes a zone's records: lock the zone, check If-Match, compute the new
// content, check the zone-wide rules on it, write the difference. All in the caller's transaction.
import type { FastifyRequest } from 'fastify';
import type { Client } from '../store/db.js';
import { lockZone, zoneUse, zoneVersion, type Zone } from '../store/zones.js';
import { checkZoneContent, longestApexWire, loadZoneRecords, replaceZoneRecords, ownerKey, ZoneContentError, type StoredRecord } from '../store/records.js';
import { TYPE, typeName, typeCode, isMetaType } from '../dns/constants.js';
import { NameError } from '../dns/name.js';
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

export interface RRset { owner: string; type: string; ttl: number; records: string[]; health_checks?: Record<string, string> }

/** Groups stored records into RRsets: apex first, then by owner and type. The TTL shown is the
 *  lowest of the set (RFC 2181 5.2 wants them equal; an imported file may not have had that). */
export function toRRsets(records: readonly StoredRecord[], checkNames?: ReadonlyMap<number, string>): RRset[] {
  const sets = new Map<string, { owner: string; type: number; ttl: number; records: string[]; health_checks?: Record<string, string> }>();
  for (const r of records) {
    const k = `${r.owner}\u0000${r.type}`;
    let s = sets.get(k);
    if (s) { s.records.push(r.rdata); s.ttl = Math.min(s.ttl, r.ttl); } else sets.set(k, (s = { owner: r.owner, type: r.type, ttl: r.ttl, records: [r.rdata] }));
    // The health check a record names (api/health-gates.ts), by name, keyed by the record.
    const check = r.check ? checkNames?.get(r.check) : undefined;
    if (check) (s.health_checks ??= {})[r.rdata] = check;
  }
  return [...sets.values()]
    .sort((a, b) => (a.owner === b.owner ? a.type - b.type : a.owner === '@' ? -1 : b.owner === '@' ? 1 : a.owner < b.owner ? -1 : 1))
    .map((s) => ({ owner: s.owner, type: typeName(s.type), ttl: s.ttl, records: s.records.sort(), ...(s.health_checks ? { health_checks: s.health_checks } : {}) }));
}

/** Owner key and type code of an RRset address; 422 when either is not valid DNS. */
export function rrsetKey(owner: string, type: string, at = ''): { owner: string; type: number } {
  const problems: { path: string; problem: string }[] = [];
  let key = '@';
  try { key = ownerKey(owner); } catch (e) { if (e instanceof NameError) problems.push({ path: `${at}owner`, problem: e.message }); else throw e; }
  const code = typeCode(type);
  if (code === undefined || isMetaType(code)) problems.push({ path: `${at}type`, problem: `"${type}" is not a record type` });
  if (problems.length) throw new ZoneContentError(problems);
  return { owner: key, type: code! };
}

export const without = (rs: StoredRecord[], k: { owner: string; type: number }) => rs.filter((r) => r.owner !== k.owner || r.type !== k.type);
