// Zones of the caller's tenant: create (optionally with content), list, get, rename, delete.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RouteContext } from '../app.js';
import { caller, tenantFor } from '../auth.js';
import { createZone, deleteZone, getZoneSummary, listZones, renameZone, zoneUse } from '../../store/zones.js';
import { checkZoneContent, recordsFromText, replaceZoneRecords, ZoneContentError, type StoredRecord } from '../../store/records.js';
import { tx } from '../../store/db.js';
import { ApiError, notFound } from '../errors.js';
import { etag, checkIfMatch, lockZoneOr404 } from '../zone-edit.js';
import { obj, str, responses, empty, pageQuery, page, next, tenantQuery, zoneSchema, ZONE_NAME, ifMatchHeader, includesField } from '../schemas.js';
import { includers, setIncludes } from '../../store/zone-includes.js';
import { gatesOf, gatedTtlWarnings, healthChecksField, type Gate, type GateMap } from '../health-gates.js';
import { resolveGates } from '../health-gate-ids.js';

type Q = { tenant?: string };
const zoneParams = obj({ zone: str({ pattern: ZONE_NAME }) }, ['zone']);
const rrsetIn = obj({
  owner: str(), type: str(), ttl: { type: 'integer', minimum: 0, maximum: 2147483647 },
  records: { type: 'array', items: str(), minItems: 1 }, health_checks: healthChecksField,
}, ['owner', 'type', 'ttl', 'records']);
type RRsetIn = { owner: string; type: string; ttl: number; records: string[]; health_checks?: GateMap };

/** Records of a list of API RRsets (all, and each set's), and the records their `health_checks`
 *  gate; every problem reported with its set's index. */
export function recordsOfRRsets(sets: readonly RRsetIn[], path: string): { records: StoredRecord[]; sets: StoredRecord[][]; gates: Gate[] } {
  const out: StoredRecord[] = [];
  const bySet: StoredRecord[][] = [];
  const gates: Gate[] = [];
  const problems: { path: string; problem: string }[] = [];
  sets.forEach((s, i) => {
    try {
      const set = recordsFromText(s.owner, s.type, s.ttl, s.records, `${path}[${i}].`);
      out.push(...set);
      bySet.push(set);
      gates.push(...gatesOf(set, s.health_checks, `${path}[${i}].`));
    } catch (e) {
      if (e instanceof ZoneContentError) problems.push(...e.details); else throw e;
    }
  });
  if (problems.length) throw new ZoneContentError(problems);
  return { records: out, sets: bySet, gates };
}

export async function zoneRoutes(app: FastifyInstance, { ctx }: { ctx: RouteContext }): Promise<void> {
  const get = async (req: FastifyRequest, tenantId: number | null, name: string) => {
    const z = tenantId === null ? undefined : await getZoneSummary(ctx.pool, tenantId, name);
    if (!z) throw notFound(`zone "${name}"`);
    return z;
  };

  app.post<{ Body: { name: string; rrsets?: RRsetIn[]; includes?: string[] }; Querystring: Q }>('/v1/zones', {
    schema: {
      tags: ['zones'], summary: 'Create a zone, empty or with RRsets (an apex SOA and NS when any are given; records may name health checks: health_checks), optionally including other zones',
      querystring: obj(tenantQuery),
      body: obj({ name: str({ pattern: ZONE_NAME }), rrsets: { type: 'array', items: rrsetIn }, includes: includesField }, ['name']),
      response: responses({ 201: zoneSchema }, 404, 409, 422),
    },
  }, async (req, reply) => {
    const c = caller(req);
    const { records, sets, gates } = recordsOfRRsets(req.body.rrsets ?? [], 'rrsets');
    if (records.length) checkZoneContent(records, { delegationOnly: false, requireApex: true });
    const z = await tx(ctx.pool, c.actor, async (db) => {
      const tenantId = (await tenantFor(req, db, true))!;
      await resolveGates(db, tenantId, gates);
      const zone = await createZone(db, tenantId, req.body.name);
      if (records.length) await replaceZoneRecords(db, zone.id, records);
      if (req.body.includes?.length) await setIncludes(db, tenantId, zone, req.body.includes);
      return (await getZoneSummary(db, tenantId, zone.name))!;
    });
    const warnings = gatedTtlWarnings(req, sets);
    return reply.code(201).header('etag', etag(z.version)).send(warnings.length ? { ...z, warnings } : z);
  });

  app.get<{ Querystring: Q & { limit?: string; after?: string; prefix?: string } }>('/v1/zones', {
    schema: {
      tags: ['zones'], summary: 'List zones by name, a page at a time (keyset cursor)',
      querystring: obj({ ...tenantQuery, ...pageQuery, prefix: str({ maxLength: 253, description: 'Only names starting with this.' }) }),
      response: responses({ 200: obj({ zones: { type: 'array', items: zoneSchema }, next: { type: ['string', 'null'] } }, ['zones', 'next']) }, 404),
    },
  }, async (req) => {
    const tenantId = await tenantFor(req, ctx.pool, false);
    const p = page(req.query);
    const zones = tenantId === null ? [] : await listZones(ctx.pool, tenantId, p.limit, p.after, req.query.prefix);
    return { zones, next: next(zones, p.limit, (z) => z.name) };
  });

  app.get<{ Params: { zone: string }; Querystring: Q }>('/v1/zones/:zone', {
    schema: {
      tags: ['zones'], summary: 'Get a zone; ETag is its version',
      params: zoneParams, querystring: obj(tenantQuery),
      response: responses({ 200: zoneSchema }, 404),
    },
  }, async (req, reply) => {
    const z = await get(req, await tenantFor(req, ctx.pool, false), req.params.zone);
    return reply.header('etag', etag(z.version)).send(z);
  });

  app.patch<{ Params: { zone: string }; Querystring: Q; Body: { name?: string; includes?: string[] } }>('/v1/zones/:zone', {
    schema: {
      tags: ['zones'], summary: 'Rename a zone (domains keep pointing at it) and/or replace its include list',
      params: zoneParams, querystring: obj(tenantQuery), headers: ifMatchHeader,
      body: obj({ name: str({ pattern: ZONE_NAME }), includes: includesField }, [], { minProperties: 1 }),
      response: responses({ 200: zoneSchema }, 404, 409, 412, 422),
    },
  }, async (req, reply) => {
    const c = caller(req);
    const z = await tx(ctx.pool, c.actor, async (db) => {
      const tenantId = await tenantFor(req, db, false);
      const zone = await lockZoneOr404(db, tenantId, req.params.zone);
      checkIfMatch(req, zone.version);
      const name = req.body.name ?? zone.name;
      if (name !== zone.name) await renameZone(db, zone.id, name);
      if (req.body.includes) await setIncludes(db, tenantId!, { id: zone.id, name }, req.body.includes);
      return (await getZoneSummary(db, tenantId!, name))!;
    });
    return reply.header('etag', etag(z.version)).send(z);
  });

  app.delete<{ Params: { zone: string }; Querystring: Q }>('/v1/zones/:zone', {
    schema: {
      tags: ['zones'], summary: 'Delete a zone and its records; 409 while a domain points at it, a PZC targets it (zone_in_use) or another zone includes it (zone_included)',
      params: zoneParams, querystring: obj(tenantQuery), headers: ifMatchHeader,
      response: responses({ 204: empty }, 404, 409, 412),
    },
  }, async (req, reply) => {
    const c = caller(req);
    await tx(ctx.pool, c.actor, async (db) => {
      const zone = await lockZoneOr404(db, await tenantFor(req, db, false), req.params.zone);
      checkIfMatch(req, zone.version);
      const use = await zoneUse(db, zone.id);
      if (use.served) {
        throw new ApiError('zone_in_use', `zone "${zone.name}" is in use`, use.domains.map((d) => ({ path: d, problem: 'this domain points at the zone (now or after a pending PZC)' })));
      }
      const by = await includers(db, zone.id);
      if (by.length) {
        throw new ApiError('zone_included', `zone "${zone.name}" is included by ${by.map((n) => `"${n}"`).join(', ')}`, by.map((n) => ({ path: n, problem: 'this zone includes the zone' })));
      }
      await deleteZone(db, zone.id);
    });
    return reply.code(204).send();
  });
}
