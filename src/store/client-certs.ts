// API client certificates mapped to tenants (migrations/004_client_certs.sql). Only the mapping is
// stored: which certificates are trusted at all is the CA and CRL files' business (TLS layer).
import type { Queryable } from './tenants.js';

export interface ClientCertInfo {
  id: string;
  tenant: string | null;
  admin: boolean;
  fingerprint: string | null;
  subject: string | null;
  created_at: Date;
}

const SELECT = `SELECT c.id, t.name AS tenant, c.is_admin AS admin, c.fingerprint, c.subject, c.created_at
                  FROM client_certs c LEFT JOIN tenants t ON t.id = c.tenant_id`;

export async function createClientCert(c: Queryable, o: { tenantId: number | null; admin: boolean; fingerprint?: string; subject?: string }): Promise<ClientCertInfo> {
  const { rows } = await c.query<{ id: string }>(
    'INSERT INTO client_certs (tenant_id, is_admin, fingerprint, subject) VALUES ($1, $2, $3, $4) RETURNING id',
    [o.tenantId, o.admin, o.fingerprint ?? null, o.subject ?? null]);
  return (await c.query<ClientCertInfo>(`${SELECT} WHERE c.id = $1`, [rows[0].id])).rows[0];
}

export async function listClientCerts(c: Queryable, o: { tenant?: string; limit: number; after?: string }): Promise<ClientCertInfo[]> {
  const { rows } = await c.query<ClientCertInfo>(
    `${SELECT} WHERE ($1::text IS NULL OR t.name = $1) AND ($3::uuid IS NULL OR c.id > $3)
      ORDER BY c.id LIMIT $2`, [o.tenant ?? null, o.limit, o.after ?? null]);
  return rows;
}

export async function deleteClientCert(c: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await c.query('DELETE FROM client_certs WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

export interface CertPrincipal { id: string; admin: boolean; tenantId: number | null; tenantName: string | null }

/** The mapping for a verified certificate: by fingerprint first (the stricter match), then subject. */
export async function findClientCert(c: Queryable, fingerprint: string, subject: string): Promise<CertPrincipal | undefined> {
  const { rows } = await c.query<{ id: string; is_admin: boolean; tenant_id: number | null; name: string | null }>(
    `SELECT c.id, c.is_admin, c.tenant_id, t.name FROM client_certs c LEFT JOIN tenants t ON t.id = c.tenant_id
      WHERE c.fingerprint = $1 OR c.subject = $2 ORDER BY (c.fingerprint = $1) DESC NULLS LAST LIMIT 1`,
    [fingerprint, subject]);
  const r = rows[0];
  return r && { id: r.id, admin: r.is_admin, tenantId: r.tenant_id, tenantName: r.name };
}
