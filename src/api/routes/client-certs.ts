// Client certificates mapped to tenants (admin only): map by SHA-256 fingerprint or by subject DN,
// list, delete. Which certificates verify at all is decided by GLIDEPATH_API_CLIENT_CA/_CRL.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { requireAdmin } from '../auth.js';
import { createClientCert, listClientCerts, deleteClientCert } from '../../store/client-certs.js';
import { findTenant } from '../../store/tenants.js';
import { tx } from '../../store/db.js';
import { ApiError, notFound } from '../errors.js';
import { normalizeFingerprint, normalizeSubject } from '../client-cert.js';
import { obj, str, dateTime, responses, empty, pageQuery, page, next, TENANT_NAME } from '../schemas.js';

const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const nullable = { type: ['string', 'null'] };
const mapping = obj({
  id: str({ format: 'uuid' }), tenant: nullable, admin: { type: 'boolean' },
  fingerprint: { ...nullable, description: 'SHA-256 of the certificate, lower-case hex' },
  subject: { ...nullable, description: 'Subject DN, normalised: "C=FR,O=Example,CN=panel"' },
  created_at: dateTime,
}, ['id', 'tenant', 'admin', 'fingerprint', 'subject', 'created_at']);

interface Body { tenant?: string; admin?: boolean; fingerprint?: string; subject?: string }

export async function clientCertRoutes(app: FastifyInstance, { ctx }: { ctx: RouteContext }): Promise<void> {
  app.post<{ Body: Body }>('/v1/client-certs', {
    schema: {
      tags: ['client certificates'],
      summary: 'Map a client certificate to a tenant, or to admin, by fingerprint or subject (admin)',
      description: 'A verified certificate (GLIDEPATH_API_CLIENT_CA, not revoked by GLIDEPATH_API_CLIENT_CRL) that matches '
        + 'authenticates like a token of that tenant. `fingerprint` as `openssl x509 -noout -fingerprint -sha256` prints it '
        + '(colons optional); `subject` as `openssl x509 -noout -subject` prints it.',
      body: obj({
        tenant: str({ pattern: TENANT_NAME }), admin: { type: 'boolean' },
        fingerprint: str({ minLength: 1, maxLength: 200 }), subject: str({ minLength: 1, maxLength: 1024 }),
      }),
      response: responses({ 201: mapping }, 403, 404, 409, 422),
    },
  }, async (req, reply) => {
    const c = requireAdmin(req);
    const { tenant, admin = false } = req.body;
    if (admin === (tenant !== undefined)) {
      throw new ApiError('exclusive_fields', 'give either "tenant" or "admin": true', [{ path: 'tenant', problem: 'exactly one of tenant and admin' }]);
    }
    if ((req.body.fingerprint === undefined) === (req.body.subject === undefined)) {
      throw new ApiError('exclusive_fields', 'give either "fingerprint" or "subject"', [{ path: 'fingerprint', problem: 'exactly one of fingerprint and subject' }]);
    }
    const fingerprint = req.body.fingerprint === undefined ? undefined : normalizeFingerprint(req.body.fingerprint);
    if (fingerprint !== undefined && !/^[0-9a-f]{64}$/.test(fingerprint)) {
      throw new ApiError('invalid_data', '"fingerprint" must be a SHA-256 fingerprint (64 hex digits, colons allowed)', [{ path: 'body.fingerprint', problem: 'not a SHA-256 fingerprint' }]);
    }
    const subject = req.body.subject === undefined ? undefined : normalizeSubject(req.body.subject);
    if (subject !== undefined && !/^[A-Za-z][A-Za-z0-9.]*=/.test(subject)) {
      throw new ApiError('invalid_data', '"subject" must be a distinguished name such as "O=Example,CN=panel"', [{ path: 'body.subject', problem: 'not a distinguished name' }]);
    }
    const out = await tx(ctx.pool, c.actor, async (db) => {
      let tenantId: number | null = null;
      if (tenant !== undefined) {
        const t = await findTenant(db, tenant);
        if (!t) throw notFound(`tenant "${tenant}"`);
        tenantId = t.id;
      }
      return createClientCert(db, { tenantId, admin, fingerprint, subject });
    });
    return reply.code(201).send(out);
  });

  app.get<{ Querystring: { tenant?: string; limit?: string; after?: string } }>('/v1/client-certs', {
    schema: {
      tags: ['client certificates'], summary: 'List client certificate mappings (admin)',
      querystring: obj({ tenant: str({ pattern: TENANT_NAME }), ...pageQuery }),
      response: responses({ 200: obj({ client_certs: { type: 'array', items: mapping }, next: nullable }, ['client_certs', 'next']) }, 403, 400),
    },
  }, async (req) => {
    requireAdmin(req);
    const p = page(req.query);
    if (p.after !== undefined && !new RegExp(UUID).test(p.after)) throw new ApiError('invalid_cursor', '"after" must be a mapping id', [{ path: 'querystring.after', problem: 'not a uuid' }]);
    const rows = await listClientCerts(ctx.pool, { tenant: req.query.tenant, ...p });
    return { client_certs: rows, next: next(rows, p.limit, (r) => r.id) };
  });

  app.delete<{ Params: { id: string } }>('/v1/client-certs/:id', {
    schema: {
      tags: ['client certificates'], summary: 'Remove a client certificate mapping (admin)',
      params: obj({ id: str({ pattern: UUID }) }, ['id']),
      response: responses({ 204: empty }, 403, 404),
    },
  }, async (req, reply) => {
    const c = requireAdmin(req);
    const ok = await tx(ctx.pool, c.actor, (db) => deleteClientCert(db, req.params.id));
    if (!ok) throw notFound('client certificate mapping');
    return reply.code(204).send();
  });
}
