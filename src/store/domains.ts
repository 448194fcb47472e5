// Domains of a tenant: a name served from one of the tenant's zones. Scoped by tenant_id: another
// tenant's domain is never found.
import type { Client } from './db.js';
import type { Queryable } from './tenants.js';

export interface Domain {
  id: number;
  name: string;
  zone: string;
  zone_id: number;
  delegation_only: boolean;
  serial: number;
  pzc_zone: string | null;
  pzc_zone_id: number | null;
  pzc_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const SELECT = `SELECT d.id, d.name, z.name AS zone, d.zone_id, d.delegation_only, d.serial,
       p.name AS pzc_zone, d.pzc_zone_id, d.pzc_at, d.created_at, d.updated_at
  FROM domains d JOIN zones z ON z.id = d.zone_id LEFT JOIN zones p ON p.id = d.pzc_zone_id`;

export async function createDomain(c: Client, o: { name: string; tenantId: number; zoneId: number; delegationOnly: boolean }): Promise<void> {
  await c.query('INSERT INTO domains (name, tenant_id, zone_id, delegation_only) VALUES ($1, $2, $3, $4)',
    [o.name, o.tenantId, o.zoneId, o.delegationOnly]);
}

export interface DomainFilter {
  /** Names starting with this (lower-case, as stored). */
  prefix?: string;
  /** Served from this zone (id). */
  zoneId?: number;
  /** Only domains with a Progressive Zone Change pending. */
  pendingPzc?: boolean;
}

/** A page of the tenant's domains in name order (bytewise, COLLATE "C"), after `after` (keyset:
 *  stable under concurrent inserts and deletes, and as fast on the last page as on the first, on
 *  the indexes of migrations/008_scale.sql). Only the conditions in use go into the SQL, so each
 *  filter combination is planned on its own index. */
export async function listDomains(c: Queryable, tenantId: number, limit: number, after: string | undefined, f: DomainFilter = {}): Promise<Domain[]> {
  const args: unknown[] = [tenantId, limit];
  const where = ['d.tenant_id = $1'];
  const arg = (v: unknown) => { args.push(v); return `$${args.length}`; };
  if (after !== undefined) where.push(`d.name COLLATE "C" > ${arg(after)}`);
  if (f.prefix) {
    where.push(`d.name COLLATE "C" >= ${arg(f.prefix)}`);
    const upper = prefixUpperBound(f.prefix);
    if (upper !== undefined) where.push(`d.name COLLATE "C" < ${arg(upper)}`);
  }
  if (f.zoneId !== undefined) where.push(`d.zone_id = ${arg(f.zoneId)}`);
  if (f.pendingPzc) where.push('d.pzc_at IS NOT NULL');
  const { rows } = await c.query<Domain>(
    `${SELECT} WHERE ${where.join(' AND ')} ORDER BY d.name COLLATE "C" LIMIT $2`, args);
  return rows;
}

/** The smallest string above every string starting with `prefix` (bytewise), if any. */
export function prefixUpperBound(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const code = prefix.charCodeAt(i);
    if (code < 0x7f) return prefix.slice(0, i) + String.fromCharCode(code + 1);
  }
  return undefined;
}

export async function getDomain(c: Queryable, tenantId: number, name: string, lock = false): Promise<Domain | undefined> {
  const { rows } = await c.query<Domain>(
    `${SELECT} WHERE d.tenant_id = $1 AND d.name = $2${lock ? ' FOR UPDATE OF d' : ''}`, [tenantId, name]);
  return rows[0];
}

export async function updateDomain(c: Client, id: number, o: { zoneId: number; delegationOnly: boolean }): Promise<void> {
  await c.query('UPDATE domains SET zone_id = $2, delegation_only = $3 WHERE id = $1', [id, o.zoneId, o.delegationOnly]);
}

export async function deleteDomain(c: Client, id: number): Promise<void> {
  await c.query('DELETE FROM domains WHERE id = $1', [id]);
}
