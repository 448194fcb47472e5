// Bearer tokens and client certificates. A tenant token acts on its own tenant only; an admin token
// (a stored admin token, or GLIDEPATH_ADMIN_TOKEN) manages tenants and tokens, and acts on any
// tenant's zones and domains through `?tenant=NAME` (default: the tenant "default", created on first
// write). Over HTTPS with client certificates, a verified certificate mapped to a tenant (or admin)
// through /v1/client-certs authenticates exactly like a token of that tenant.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Client, Pool } from '../store/db.js';
import { findToken } from '../store/tokens.js';
import { ensureTenant, findTenant } from '../store/tenants.js';
import { findClientCert } from '../store/client-certs.js';
import { ApiError, notFound } from './errors.js';
import { peerCert, type ClientCertMode } from './client-cert.js';

export interface Caller {
  admin: boolean;
  /** Journal actor: `token:<uuid>`, or `admin-token` for GLIDEPATH_ADMIN_TOKEN. */
  actor: string;
  /** The tenant of a tenant token; null for admin tokens. */
  tenantId: number | null;
  tenantName: string | null;
  /** A token scoped to one health check (its heartbeats only); null for every other credential. */
  healthCheckId?: number | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
    /** Tenant the request acted on, for the request log. */
    tenantName: string | null;
  }
}

export const DEFAULT_TENANT = 'default';

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

/** Rejects with a 401 whose message says why, and a log line with the same reason. */
function refuse(req: FastifyRequest, reason: string, cert?: { subject: string; fingerprint: string }): never {
  req.log.warn({ from: req.ip, reason, subject: cert?.subject, fingerprint: cert?.fingerprint }, 'client certificate refused');
  throw new ApiError('unauthorized', reason);
}

/** `token`: the credential the route family carries (the bearer token by default; the PowerDNS API
 *  takes it from X-API-Key). */
export async function authenticate(pool: Pool, adminToken: string | undefined, req: FastifyRequest,
  certMode: ClientCertMode = 'off', token: string | undefined = bearer(req), heartbeatRoute = false): Promise<Caller> {
  if (certMode !== 'off') {
    const cert = peerCert(req);
    // A certificate that was presented but does not verify is refused even where certificates are
    // optional: silently falling back to the token would hide a revoked or expired credential.
    if (cert.state === 'invalid') refuse(req, cert.reason, cert);
    if (cert.state === 'none' && certMode === 'require') refuse(req, 'a client certificate is required (GLIDEPATH_API_CLIENT_CERT=require)');
    if (cert.state === 'valid') {
      const p = await findClientCert(pool, cert.fingerprint, cert.subject);
      if (p) return { admin: p.admin, actor: `cert:${p.id}`, tenantId: p.admin ? null : p.tenantId, tenantName: p.admin ? null : p.tenantName };
      // A verified but unmapped certificate passes the TLS gate; the token then says who is calling.
      if (!token) refuse(req, `the client certificate is not mapped to a tenant (subject "${cert.subject}", sha256 ${cert.fingerprint}); map it with POST /v1/client-certs or send a bearer token`, cert);
    }
  }
  if (!token) throw new ApiError('unauthorized', 'missing bearer token (Authorization: Bearer …)');
  if (adminToken && timingSafeEqual(sha(token), sha(adminToken))) {
    return { admin: true, actor: 'admin-token', tenantId: null, tenantName: null };
  }
  const p = await findToken(pool, token);
  if (!p) throw new ApiError('unauthorized', 'invalid or revoked token');
  // A heartbeat token is handed to the server it watches: it opens nothing but its heartbeats.
  if (p.healthCheckId !== null && !heartbeatRoute) {
    throw new ApiError('token_scope', 'this token is scoped to one health check: it may only POST /v1/heartbeats/{check} for that check');
  }
  return { admin: p.admin, actor: `token:${p.tokenId}`, tenantId: p.admin ? null : p.tenantId, tenantName: p.admin ? null : p.tenantName, healthCheckId: p.healthCheckId };
}

export function caller(req: FastifyRequest): Caller {
  if (!req.caller) throw new ApiError('unauthorized', 'not authenticated');
  return req.caller;
}

export function requireAdmin(req: FastifyRequest): Caller {
  const c = caller(req);
  // Said plainly: a 404 here read like a mistyped route (issue 15).
  if (!c.admin) throw new ApiError('admin_required', 'this route needs an admin token (GLIDEPATH_ADMIN_TOKEN, `glidepath token create --admin`) or an admin client certificate; a tenant\'s credential cannot use it');
  return c;
}

/** The tenant a zone or domain request acts on. A tenant token: its own (naming another in
 *  ?tenant answers 404). An admin: ?tenant=NAME, which must exist, or "default". With `create`
 *  (writes) the default tenant is created on demand; without it a missing tenant gives null, for
 *  which lists are empty and everything else is not found. */
export async function tenantFor(req: FastifyRequest, db: Client | Pool, create: boolean): Promise<number | null> {
  const c = caller(req);
  const asked = (req.query as { tenant?: string } | undefined)?.tenant;
  if (!c.admin) {
    if (asked !== undefined && asked !== c.tenantName) throw notFound(`tenant "${asked}"`);
    req.tenantName = c.tenantName;
    return c.tenantId;
  }
  const name = asked ?? DEFAULT_TENANT;
  req.tenantName = name;
  if (name === DEFAULT_TENANT && create) return (await ensureTenant(db, name)).id;
  const t = await findTenant(db, name);
  if (!t && name !== DEFAULT_TENANT) throw notFound(`tenant "${name}"`);
  return t?.id ?? null;
}
