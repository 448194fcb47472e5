// API tokens (admin tokens only): create (the secret is in this one answer only), list, revoke.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { requireAdmin } from '../auth.js';
import { createToken, listTokens, revokeToken } from '../../store/tokens.js';
import { findTenant } from '../../store/tenants.js';
import { tx } from '../../store/db.js';
import { ApiError, notFound } from '../errors.js';
import { obj, str, dateTime, responses, empty, pageQuery, page, next, TENANT_NAME } from '../schemas.js';

const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const tokenProps = {
  id: str({ format: 'uuid' }),
  tenant: { type: ['string', 'null'] },
  admin: { type: 'boolean' },
  created_at: dateTime,
  revoked_at: { anyOf: [{ type: 'null' }, dateTime] },
};
const token = obj(tokenProps, ['id', 'tenant', 'admin', 'created_at', 'revoked_at']);
const created = obj({ ...tokenProps, token: str({ description: 'The bearer token. Shown once: only its SHA-256 is stored.' }) },
  ['id', 'tenant', 'admin', 'created_at', 'revoked_at', 'token']);

export async function tokenRoutes(app: FastifyInstance, { ctx }: { ctx: RouteContext }): Promise<void> {
  app.post<{ Body: { tenant?: string; admin?: boolean } }>('/v1/tokens', {
    schema: {
      tags: ['tokens'], summary: 'Create a token for a tenant, or an admin token (admin)',
      body: obj({ tenant: str({ pattern: TENANT_NAME }), admin: { type: 'boolean' } }),
      response: responses({ 201: created }, 403, 404, 422),
    },
  }, async (req, reply) => {
    const c = requireAdmin(req);
    const { tenant, admin = false } = req.body;
    if (admin === (tenant !== undefined)) {
      throw new ApiError('exclusive_fields', 'give either "tenant" (a tenant token) or "admin": true (an admin token)', [{ path: 'tenant', problem: 'exactly one of tenant and admin' }]);
    }
    const out = await tx(ctx.pool, c.actor, async (db) => {
      let tenantId: number | null = null;
      if (tenant !== undefined) {
        const t = await findTenant(db, tenant);
        if (!t) throw notFound(`tenant "${tenant}"`);
        tenantId = t.id;
      }
      return createToken(db, { tenantId, admin });
    });
    return reply.code(201).send(out);
  });

  // The route scripts use: a token for the tenant in the path, {} as body.
  app.post<{ Params: { name: string }; Body: Record<string, never> }>('/v1/tenants/:name/tokens', {
    schema: {
      tags: ['tokens'], summary: 'Create a token for this tenant (admin); the secret is in this answer only',
      params: obj({ name: str({ pattern: TENANT_NAME }) }, ['name']),
      body: obj({}),
      response: responses({ 201: created }, 403, 404),
    },
  }, async (req, reply) => {
    const c = requireAdmin(req);
    const out = await tx(ctx.pool, c.actor, async (db) => {
      const t = await findTenant(db, req.params.name);
      if (!t) throw notFound(`tenant "${req.params.name}"`);
      return createToken(db, { tenantId: t.id, admin: false });
    });
    return reply.code(201).send(out);
  });

  app.get<{ Querystring: { tenant?: string; limit?: string; after?: string } }>('/v1/tokens', {
    schema: {
      tags: ['tokens'], summary: 'List tokens, without their secrets (admin)',
      querystring: obj({ tenant: str({ pattern: TENANT_NAME }), ...pageQuery }),
      response: responses({ 200: obj({ tokens: { type: 'array', items: token }, next: { type: ['string', 'null'] } }, ['tokens', 'next']) }, 403, 404),
    },
  }, async (req) => {
    requireAdmin(req);
    const p = page(req.query);
    if (p.after !== undefined && !new RegExp(UUID).test(p.after)) throw new ApiError('invalid_cursor', '"after" must be a token id', [{ path: 'querystring.after', problem: 'not a uuid' }]);
    const tokens = await listTokens(ctx.pool, { tenant: req.query.tenant, ...p });
    return { tokens, next: next(tokens, p.limit, (t) => t.id) };
  });

  app.delete<{ Params: { id: string } }>('/v1/tokens/:id', {
    schema: {
      tags: ['tokens'], summary: 'Revoke a token (admin)',
      params: obj({ id: str({ pattern: UUID }) }, ['id']),
      response: responses({ 204: empty }, 403, 404),
    },
  }, async (req, reply) => {
    const c = requireAdmin(req);
    const ok = await tx(ctx.pool, c.actor, (db) => revokeToken(db, req.params.id));
    if (!ok) throw notFound('token');
    return reply.code(204).send();
  });
}
