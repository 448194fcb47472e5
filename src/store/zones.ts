// Zones of a tenant. Every query is scoped by tenant_id: another tenant's zone is never found.
import type { Client } from './db.js';
import type { Queryable } from './tenants.js';
import { prefixUpperBound } from './domains.js';

export interface Zone { id: number; name: string; version: number; created_at: Date }

export interface ZoneSummary extends Zone { records: number; domains: string[]; domain_count: number; includes: string[] }

/** How many domain names a zone summary lists (a parking zone may serve 100,000: GET
 *  /v1/domains?zone= pages through them all). */
export const SUMMARY_DOMAINS = 100;

const SUMMARY = `SELECT z.id, z.name, z.version, z.created_at,
       (SELECT count(*)::int FROM records r WHERE r.zone_id = z.id) AS records,
       coalesce((SELECT array_agg(n) FROM (SELECT d.name AS n FROM domains d WHERE d.zone_id = z.id
                                           ORDER BY d.name COLLATE "C" LIMIT ${SUMMARY_DOMAINS}) s), '{}') AS domains,
       (SELECT count(*)::int FROM domains d WHERE d.zone_id = z.id) AS domain_count,
       coalesce((SELECT array_agg(iz.name ORDER BY i.position) FROM zone_includes i JOIN zones iz ON iz.id = i.included_id
                  WHERE i.zone_id = z.id), '{}') AS includes
  FROM zones z`;

export async function createZone(c: Queryable, tenantId: number, name: string): Promise<Zone> {
  const { rows } = await c.query<Zone>(
    'INSERT INTO zones (tenant_id, name) VALUES ($1, $2) RETURNING id, name, version, created_at', [tenantId, name]);
  return rows[0];
}

/** A page of the tenant's zones in name order (bytewise), after `after` (keyset), optionally only
 *  names starting with `prefix`. */
export async function listZones(c: Queryable, tenantId: number, limit: number, after: string | undefined, prefix?: string): Promise<ZoneSummary[]> {
  const args: unknown[] = [tenantId, limit];
  const where = ['z.tenant_id = $1'];
  const arg = (v: unknown) => { args.push(v); return `$${args.length}`; };
  if (after !== undefined) where.push(`z.name COLLATE "C" > ${arg(after)}`);
  if (prefix) {
    where.push(`z.name COLLATE "C" >= ${arg(prefix)}`);
    const upper = prefixUpperBound(prefix);
    if (upper !== undefined) where.push(`z.name COLLATE "C" < ${arg(upper)}`);
  }
  const { rows } = await c.query<ZoneSummary>(`${SUMMARY} WHERE ${where.join(' AND ')} ORDER BY z.name COLLATE "C" LIMIT $2`, args);
  return rows;
}

export async function getZoneSummary(c: Queryable, tenantId: number, name: string): Promise<ZoneSummary | undefined> {
  const { rows } = await c.query<ZoneSummary>(`${SUMMARY} WHERE z.tenant_id = $1 AND z.name = $2`, [tenantId, name]);
  return rows[0];
}

export async function findZone(c: Queryable, tenantId: number, name: string): Promise<Zone | undefined> {
  const { rows } = await c.query<Zone>(
    'SELECT id, name, version, created_at FROM zones WHERE tenant_id = $1 AND name = $2', [tenantId, name]);
  return rows[0];
}

/** Locks the zone row for the rest of the transaction: writers of one zone go one at a time, so the
 *  If-Match check and the content rules see the state they change. */
export async function lockZone(c: Client, tenantId: number, name: string): Promise<Zone | undefined> {
  const { rows } = await c.query<Zone>(
    'SELECT id, name, version, created_at FROM zones WHERE tenant_id = $1 AND name = $2 FOR UPDATE', [tenantId, name]);
  return rows[0];
}

/** Same lock by id (a domain change that validates the zone it points at). */
export async function lockZoneById(c: Client, zoneId: number): Promise<void> {
  await c.query('SELECT 1 FROM zones WHERE id = $1 FOR UPDATE', [zoneId]);
}

export async function zoneVersion(c: Queryable, zoneId: number): Promise<number> {
  return (await c.query<{ version: number }>('SELECT version FROM zones WHERE id = $1', [zoneId])).rows[0].version;
}

export interface ZoneUse {
  /** Some domain with delegation_only serves the zone now or will after a pending PZC. */
  delegationOnly: boolean;
  /** Some domain serves the zone (or will): it must keep an apex SOA and NS. */
  served: boolean;
  domains: string[];
}

export async function zoneUse(c: Queryable, zoneId: number): Promise<ZoneUse> {
  const { rows } = await c.query<{ name: string; delegation_only: boolean }>(
    'SELECT name, delegation_only FROM domains WHERE zone_id = $1 OR pzc_zone_id = $1 ORDER BY name', [zoneId]);
  return { delegationOnly: rows.some((r) => r.delegation_only), served: rows.length > 0, domains: rows.map((r) => r.name) };
}

export async function renameZone(c: Client, zoneId: number, name: string): Promise<void> {
  await c.query('UPDATE zones SET name = $2 WHERE id = $1', [zoneId, name]);
}

/** Deletes the zone and its records; the caller has checked zoneUse() under the row lock (the
 *  foreign keys refuse it anyway, with 23503). */
export async function deleteZone(c: Client, zoneId: number): Promise<void> {
  await c.query('DELETE FROM zones WHERE id = $1', [zoneId]);
}

/** Domains that serve the zone now (not counting pending PZCs), by name. */
export async function servingDomains(c: Queryable, zoneId: number): Promise<{ name: string; serial: number }[]> {
  const { rows } = await c.query<{ name: string; serial: number }>(
    'SELECT name, d.serial FROM domains d WHERE zone_id = $1 ORDER BY name', [zoneId]);
  return rows;
}
