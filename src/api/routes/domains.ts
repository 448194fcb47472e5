// Domains of the caller's tenant: a name served from one of the tenant's zones. Names are taken
// with or without the trailing dot and kept lower-case with it.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { caller, tenantFor } from '../auth.js';
import { createDomain, deleteDomain, getDomain, listDomains, updateDomain, type Domain } from '../../store/domains.js';
import { findZone, lockZone } from '../../store/zones.js';
import { domainChanges } from '../../store/journal-read.js';
import type { Client } from '../../store/db.js';
import { tx } from '../../store/db.js';
import { checkServable, domainKey, findDomain } from '../domain-lookup.js';
import { ApiError, notFound } from '../errors.js';
import { obj, str, dateTime, responses, empty, pageQuery, page, next, tenantQuery, domainSchema, ZONE_NAME, UINT } from '../schemas.js';

type Q = { tenant?: string };
const nameParams = obj({ name: str({ maxLength: 1024 }) }, ['name']);

export function domainOut(d: Domain) {
  return {
    name: d.name, zone: d.zone, delegation_only: d.delegation_only, serial: d.serial,
    pzc: d.pzc_zone && d.pzc_at ? { zone: d.pzc_zone, at: d.pzc_at } : null,
    created_at: d.created_at, updated_at: d.updated_at,
  };
}

async function zoneOr404(db: Client, tenantId: number, name: string) {
  const z = await lockZone(db, tenantId, name);
  if (!z) throw notFound(`zone "${name}"`);
  return z;
}

export async function domainRoutes(app: FastifyInstance, { ctx }: { ctx: RouteContext }): Promise<void> {

  app.post<{ Querystring: Q; Body: { name: string; zone: string; delegation_only?: boolean } }>('/v1/domains', {
    schema: {
      tags: ['domains'], summary: 'Serve a domain from a zone of the same tenant',
      querystring: obj(tenantQuery),
      body: obj({ name: str({ maxLength: 1024 }), zone: str({ pattern: ZONE_NAME }), delegation_only: { type: 'boolean' } }, ['name', 'zone']),
      response: responses({ 201: domainSchema }, 404, 409, 422),
    },
  }, async (req, reply) => {
    const c = caller(req);
    const key = domainKey(req.body.name);
    if (key === null) throw new ApiError('invalid_data', `"${req.body.name}" is not a domain name`, [{ path: 'name', problem: 'not a valid domain name (RFC 1035 2.3.4)' }]);
    const d = await tx(ctx.pool, c.actor, async (db) => {
      const tenantId = (await tenantFor(req, db, true))!;
      const zone = await zoneOr404(db, tenantId, req.body.zone);
      const delegationOnly = req.body.delegation_only ?? false;
      await checkServable(db, zone.id, delegationOnly);
      await createDomain(db, { name: key, tenantId, zoneId: zone.id, delegationOnly });
      return (await getDomain(db, tenantId, key))!;
    });
    return reply.code(201).send(domainOut(d));
  });

  app.get<{ Querystring: Q & { limit?: string; after?: string; prefix?: string; zone?: string; pending_pzc?: string } }>('/v1/domains', {
    schema: {
      tags: ['domains'], summary: 'List domains by name, a page at a time (keyset cursor), with filters',
      querystring: obj({
        ...tenantQuery, ...pageQuery,
        prefix: str({ maxLength: 1024, description: 'Only names starting with this (e.g. "shop" or "example.").' }),
        zone: str({ pattern: ZONE_NAME, description: 'Only domains served from this zone.' }),
        pending_pzc: { type: 'string', enum: ['true', 'false'], description: 'true: only domains with a Progressive Zone Change pending.' },
      }),
      response: responses({ 200: obj({
        domains: { type: 'array', items: domainSchema },
        next: { type: ['string', 'null'], description: 'Cursor for the next page (pass it as `after`); null on the last page.' },
      }, ['domains', 'next']) }, 404),
    },
  }, async (req) => {
    const tenantId = await tenantFor(req, ctx.pool, false);
    const p = page(req.query);
    const after = p.after === undefined ? undefined : domainKey(p.after) ?? p.after;
    if (tenantId === null) return { domains: [], next: null };
    let zoneId: number | undefined;
    if (req.query.zone !== undefined) {
      const z = await findZone(ctx.pool, tenantId, req.query.zone);
      if (!z) throw notFound(`zone "${req.query.zone}"`);
      zoneId = z.id;
    }
    const domains = await listDomains(ctx.pool, tenantId, p.limit, after,
      { prefix: req.query.prefix?.toLowerCase(), zoneId, pendingPzc: req.query.pending_pzc === 'true' });
    return { domains: domains.map(domainOut), next: next(domains, p.limit, (d) => d.name) };
  });

  app.get<{ Params: { name: string }; Querystring: Q }>('/v1/domains/:name', {
    schema: {
      tags: ['domains'], summary: 'Get a domain: zone, serial, delegation-only flag and pending PZC',
      params: nameParams, querystring: obj(tenantQuery),
      response: responses({ 200: domainSchema }, 404),
    },
  }, async (req) => domainOut(await findDomain(ctx.pool, await tenantFor(req, ctx.pool, false), req.params.name)));

  app.patch<{ Params: { name: string }; Querystring: Q; Body: { zone?: string; delegation_only?: boolean } }>('/v1/domains/:name', {
    schema: {
      tags: ['domains'], summary: 'Point a domain at another zone now, and/or toggle delegation-only',
      params: nameParams, querystring: obj(tenantQuery),
      body: obj({ zone: str({ pattern: ZONE_NAME }), delegation_only: { type: 'boolean' } }, [], { minProperties: 1 }),
      response: responses({ 200: domainSchema }, 404, 422),
    },
  }, async (req) => {
    const c = caller(req);
    const d = await tx(ctx.pool, c.actor, async (db) => {
      const tenantId = await tenantFor(req, db, false);
      const cur = await findDomain(db, tenantId, req.params.name, true);
      const zoneId = req.body.zone === undefined ? cur.zone_id : (await zoneOr404(db, tenantId!, req.body.zone)).id;
      const delegationOnly = req.body.delegation_only ?? cur.delegation_only;
      await checkServable(db, zoneId, delegationOnly);
      // The zone a pending PZC will switch to must suit the flag as well.
      if (cur.pzc_zone_id !== null && delegationOnly && !cur.delegation_only) await checkServable(db, cur.pzc_zone_id, true);
      await updateDomain(db, cur.id, { zoneId, delegationOnly });
      return (await getDomain(db, tenantId!, cur.name))!;
    });
    return domainOut(d);
  });

  app.delete<{ Params: { name: string }; Querystring: Q }>('/v1/domains/:name', {
    schema: {
      tags: ['domains'], summary: 'Stop serving a domain (its zone stays)',
      params: nameParams, querystring: obj(tenantQuery),
      response: responses({ 204: empty }, 404),
    },
  }, async (req, reply) => {
    const c = caller(req);
    await tx(ctx.pool, c.actor, async (db) => {
      const d = await findDomain(db, await tenantFor(req, db, false), req.params.name, true);
      await deleteDomain(db, d.id);
    });
    return reply.code(204).send();
  });

  const change = obj({
    seq: { type: 'integer' }, at: dateTime, actor: str(), entity: str({ enum: ['zone', 'records', 'domain'] }), action: str(),
    zone_id: { type: ['integer', 'null'] }, domain: { type: ['string', 'null'] }, serial: { type: ['integer', 'null'] },
    details: { type: 'object', additionalProperties: true },
  }, ['seq', 'at', 'actor', 'entity', 'action', 'zone_id', 'domain', 'serial', 'details']);

  app.get<{ Params: { name: string }; Querystring: Q & { since?: string; limit?: string } }>('/v1/domains/:name/changes', {
    schema: {
      tags: ['domains'], summary: 'Journal of a domain: its own changes and the record changes of its zone, after `since`',
      params: nameParams,
      querystring: obj({ ...tenantQuery, since: str({ pattern: UINT, description: 'Journal sequence number; rows after it.' }), limit: pageQuery.limit }),
      response: responses({ 200: obj({ changes: { type: 'array', items: change }, next: { type: ['integer', 'null'] } }, ['changes', 'next']) }, 404),
    },
  }, async (req) => {
    const d = await findDomain(ctx.pool, await tenantFor(req, ctx.pool, false), req.params.name);
    const { limit } = page(req.query);
    const changes = await domainChanges(ctx.pool, { domain: d.name, zoneId: d.zone_id, since: Number(req.query.since ?? 0), limit });
    return { changes, next: changes.length === limit ? changes[changes.length - 1].seq : null };
  });
}
