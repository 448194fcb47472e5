// What the PowerDNS-compatible API reads and writes beside zones and records: domains with their
// PowerDNS metadata (kind, account, soa_edit_api, masters). A tenant sees its own domains; the admin
// (tenantId null) sees every tenant's.
import type { Client } from './db.js';
import type { Queryable } from './tenants.js';

export interface PdnsMeta { kind: string; account: string; soa_edit_api: string; masters: string[] }

export interface PdnsDomain extends PdnsMeta {
  id: number;
  name: string;
  tenant_id: number;
  zone_id: number;
  zone: string;
  delegation_only: boolean;
  serial: number;
}

const SELECT = `SELECT d.id, d.name, d.tenant_id, d.zone_id, z.name AS zone, d.delegation_only, d.serial,
       coalesce(m.kind, 'Native') AS kind, coalesce(m.account, '') AS account,
       coalesce(m.soa_edit_api, 'DEFAULT') AS soa_edit_api, coalesce(m.masters, '{}') AS masters
  FROM domains d JOIN zones z ON z.id = d.zone_id LEFT JOIN pdns_zone_meta m ON m.domain_id = d.id`;

/** Domains visible to the caller, by name. */
export async function listPdnsDomains(c: Queryable, tenantId: number | null): Promise<PdnsDomain[]> {
  const { rows } = await c.query<PdnsDomain>(
    `${SELECT} WHERE ($1::bigint IS NULL OR d.tenant_id = $1) ORDER BY d.name`, [tenantId]);
  return rows;
}

/** One domain by its key (lower-case, trailing dot), scoped like listPdnsDomains; `lock` takes the
 *  domain row FOR UPDATE. */
export async function getPdnsDomain(c: Queryable, tenantId: number | null, name: string, lock = false): Promise<PdnsDomain | undefined> {
  const { rows } = await c.query<PdnsDomain>(
    `${SELECT} WHERE d.name = $2 AND ($1::bigint IS NULL OR d.tenant_id = $1)${lock ? ' FOR UPDATE OF d' : ''}`, [tenantId, name]);
  return rows[0];
}

export async function putPdnsMeta(c: Client, domainId: number, m: PdnsMeta): Promise<void> {
  await c.query(
    `INSERT INTO pdns_zone_meta (domain_id, kind, account, soa_edit_api, masters) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (domain_id) DO UPDATE SET kind = EXCLUDED.kind, account = EXCLUDED.account,
       soa_edit_api = EXCLUDED.soa_edit_api, masters = EXCLUDED.masters`,
    [domainId, m.kind, m.account, m.soa_edit_api, m.masters]);
}

/** Whether any domain, of any tenant, has this name: PowerDNS answers 409 for an existing zone. */
export async function domainNameTaken(c: Queryable, name: string): Promise<boolean> {
  return (await c.query('SELECT 1 FROM domains WHERE name = $1', [name])).rowCount === 1;
}

/** A zone name of the tenant that is free, starting from `base` ("example.com"), then "base-2"… */
export async function freeZoneName(c: Queryable, tenantId: number, base: string): Promise<string> {
  const { rows } = await c.query<{ name: string }>(
    `SELECT name FROM zones WHERE tenant_id = $1 AND (name = $2 OR name LIKE $2 || '-%')`, [tenantId, base]);
  const taken = new Set(rows.map((r) => r.name));
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
}
