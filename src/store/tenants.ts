// Tenants: the owners of zones, domains and tokens. Managed by admin tokens only.
import type { Client, Pool } from './db.js';

export type Queryable = Client | Pool;

export interface Tenant { id: number; name: string; created_at: Date }

export async function createTenant(c: Queryable, name: string): Promise<Tenant> {
  const { rows } = await c.query<Tenant>(
    'INSERT INTO tenants (name) VALUES ($1) RETURNING id, name, created_at', [name]);
  return rows[0];
}

/** The tenant of that name, created when missing (the admin's "default" tenant). */
export async function ensureTenant(c: Queryable, name: string): Promise<Tenant> {
  await c.query('INSERT INTO tenants (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
  return (await findTenant(c, name))!;
}

export async function findTenant(c: Queryable, name: string): Promise<Tenant | undefined> {
  const { rows } = await c.query<Tenant>('SELECT id, name, created_at FROM tenants WHERE name = $1', [name]);
  return rows[0];
}

export interface TenantSummary extends Tenant { zones: number; domains: number; active_tokens: number }

export async function listTenants(c: Queryable, limit: number, after: string | undefined): Promise<TenantSummary[]> {
  const { rows } = await c.query<TenantSummary>(
    `SELECT t.id, t.name, t.created_at,
            (SELECT count(*)::int FROM zones z WHERE z.tenant_id = t.id) AS zones,
            (SELECT count(*)::int FROM domains d WHERE d.tenant_id = t.id) AS domains,
            (SELECT count(*)::int FROM api_tokens k WHERE k.tenant_id = t.id AND k.revoked_at IS NULL) AS active_tokens
       FROM tenants t WHERE ($2::text IS NULL OR t.name > $2) ORDER BY t.name LIMIT $1`, [limit, after ?? null]);
  return rows;
}

/** Deletes a tenant that owns no zones and no domains (its tokens go with it). Returns false when
 *  there is no such tenant; a tenant still holding zones fails with the foreign key (23503). */
export async function deleteTenant(c: Queryable, name: string): Promise<boolean> {
  const { rowCount } = await c.query('DELETE FROM tenants WHERE name = $1', [name]);
  return (rowCount ?? 0) > 0;
}
