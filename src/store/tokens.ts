// API tokens: only a SHA-256 of each is stored; the token itself is returned once, at creation.
import { createHash, randomBytes } from 'node:crypto';
import { ensureTenant, type Queryable } from './tenants.js';

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** 32 random bytes, base64url, with a prefix that makes leaked tokens easy to recognise. */
export function newTokenSecret(): string {
  return 'gp_' + randomBytes(32).toString('base64url');
}

export interface TokenInfo {
  id: string;
  tenant: string | null;
  admin: boolean;
  created_at: Date;
  revoked_at: Date | null;
}

const SELECT = `SELECT k.id, t.name AS tenant, k.is_admin AS admin, k.created_at, k.revoked_at
                  FROM api_tokens k LEFT JOIN tenants t ON t.id = k.tenant_id`;

/** A new token: for a tenant given by id, or by name (created when missing, as `glidepath token
 *  create --tenant` does), or an admin token. Tokens are not journaled, so `actor` is unused. */
export async function createToken(c: Queryable, o: { admin: boolean; tenantId?: number | null; tenant?: string; actor?: string; healthCheckId?: number }): Promise<TokenInfo & { token: string }> {
  const token = newTokenSecret();
  const tenantId = o.tenant !== undefined ? (await ensureTenant(c, o.tenant)).id : o.tenantId ?? null;
  const { rows } = await c.query<{ id: string }>(
    'INSERT INTO api_tokens (tenant_id, is_admin, token_hash, health_check_id) VALUES ($1, $2, $3, $4) RETURNING id',
    [tenantId, o.admin, hashToken(token), o.healthCheckId ?? null]);
  const info = (await c.query<TokenInfo>(`${SELECT} WHERE k.id = $1`, [rows[0].id])).rows[0];
  return { ...info, token };
}

export async function listTokens(c: Queryable, o: { tenant?: string; limit: number; after?: string }): Promise<TokenInfo[]> {
  const { rows } = await c.query<TokenInfo>(
    `${SELECT} WHERE ($1::text IS NULL OR t.name = $1) AND ($3::uuid IS NULL OR k.id > $3)
      ORDER BY k.id LIMIT $2`, [o.tenant ?? null, o.limit, o.after ?? null]);
  return rows;
}

/** Marks the token revoked (idempotent). False when there is no token with that id. */
export async function revokeToken(c: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await c.query(
    'UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

export interface Principal {
  tokenId: string;
  admin: boolean;
  tenantId: number | null;
  tenantName: string | null;
  /** A token scoped to one health check: it may only send that check's heartbeats. */
  healthCheckId: number | null;
}

/** The live (not revoked) token with that secret, or undefined. */
export async function findToken(c: Queryable, token: string): Promise<Principal | undefined> {
  const { rows } = await c.query<{ id: string; is_admin: boolean; tenant_id: number | null; name: string | null; health_check_id: number | null }>(
    `SELECT k.id, k.is_admin, k.tenant_id, t.name, k.health_check_id FROM api_tokens k LEFT JOIN tenants t ON t.id = k.tenant_id
      WHERE k.token_hash = $1 AND k.revoked_at IS NULL`, [hashToken(token)]);
  const r = rows[0];
  return r && { tokenId: r.id, admin: r.is_admin, tenantId: r.tenant_id, tenantName: r.name, healthCheckId: r.health_check_id };
}
