// Tenants (admin tokens only): create, list, delete. A tenant still owning zones or domains
// cannot be deleted (409); its tokens go with it.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { requireAdmin } from '../auth.js';
import { createTenant, deleteTenant, listTenants } from '../../store/tenants.js';
import { tx } from '../../store/db.js';
import { notFound } from '../errors.js';
import { obj, str, dateTime, responses, empty, pageQuery, page, next, TENANT_NAME } from '../schemas.js';

const tenant = obj({
  name: str(), created_at: dateTime,
  zones: { type: 'integer' }, domains: { type: 'integer' }, active_tokens: { type: 'integer' },
}, ['name', 'created_at']);

export async function tenantRoutes(app: FastifyInstance, { ctx }: { ctx: RouteContext }): Promise<void> {
  app.post<{ Body: { name: string } }>('/v1/tenants', {
    schema: {
      tags: ['tenants'], summary: 'Create a tenant (admin)',
      body: obj({ name: str({ pattern: TENANT_NAME }) }, ['name']),
      response: responses({ 201: tenant }, 403, 404, 409),
    },
  }, async (req, reply) => {
    const c = requireAdmin(req);
    const t = await tx(ctx.pool, c.actor, (db) => createTenant(db, req.body.name));
    return reply.code(201).send({ ...t, zones: 0, domains: 0, active_tokens: 0 });
  });

  app.get<{ Querystring: { limit?: string; after?: string } }>('/v1/tenants', {
    schema: {
      tags: ['tenants'], summary: 'List tenants (admin)',
      querystring: obj(pageQuery),
      response: responses({ 200: obj({ tenants: { type: 'array', items: tenant }, next: { type: ['string', 'null'] } }, ['tenants', 'next']) }, 403, 404),
    },
  }, async (req) => {
    requireAdmin(req);
    const p = page(req.query);
    const tenants = await listTenants(ctx.pool, p.limit, p.after);
    return { tenants, next: next(tenants, p.limit, (t) => t.name) };
  });

  app.delete<{ Params: { name: string } }>('/v1/tenants/:name', {
    schema: {
      tags: ['tenants'], summary: 'Delete a tenant that owns no zones or domains (admin); revokes its tokens',
      params: obj({ name: str() }, ['name']),
      response: responses({ 204: empty }, 403, 404, 409),
    },
  }, async (req, reply) => {
    const c = requireAdmin(req);
    const gone = await tx(ctx.pool, c.actor, (db) => deleteTenant(db, req.params.name));
    if (!gone) throw notFound(`tenant "${req.params.name}"`);
    return reply.code(204).send();
  });
}
