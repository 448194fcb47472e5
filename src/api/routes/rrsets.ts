// RRsets of a zone, addressed by owner (relative, "@" for the apex) and type. Every change runs
// through editZone(): one transaction, If-Match, and the zone-wide rules on the resulting content.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { caller, tenantFor } from '../auth.js';
import { findZone } from '../../store/zones.js';
import { loadZoneRecords, recordsFromText, ZoneContentError, type StoredRecord } from '../../store/records.js';
import { tx } from '../../store/db.js';
import { notFound } from '../errors.js';
import { editZone, etag, toRRsets, rrsetKey, without, type RRset } from '../zone-edit.js';
import { obj, str, responses, empty, tenantQuery, rrsetSchema, healthChecksField, ZONE_NAME, ifMatchHeader } from '../schemas.js';
import { gatesOf, resolveGates, gatedTtlWarnings, type Gate, type GateMap } from '../health-gates.js';
import { checkNames } from '../../store/health.js';
import { effectiveRecords } from '../../store/zone-includes.js';
import { typeName } from '../../dns/constants.js';

type Q = { tenant?: string };
const ttl = { type: 'integer', minimum: 0, maximum: 2147483647 };
const records = { type: 'array', items: str(), minItems: 1, description: 'Record data in presentation form.' };
const setParams = obj({ zone: str({ pattern: ZONE_NAME }), owner: str({ maxLength: 1024 }), type: str({ maxLength: 16 }) }, ['zone', 'owner', 'type']);
const change = {
  anyOf: [
    obj({ owner: str(), type: str(), ttl, records, health_checks: healthChecksField }, ['owner', 'type', 'ttl', 'records']),
    obj({ owner: str(), type: str(), delete: { type: 'boolean', const: true } }, ['owner', 'type', 'delete']),
  ],
};
type Change = { owner: string; type: string; ttl?: number; records?: string[]; health_checks?: GateMap; delete?: true };

/** Changes of a PATCH validated between two returns to the event loop. */
const YIELD_EVERY = 500;

/** The records after replacing (or, with an empty set, deleting) each RRset in turn; a replaced
 *  set moves to the end, as `[...without(rs, key), ...set]` would put it. In one pass over the
 *  records and the steps: a 10,000-change batch on a large zone used to copy the zone per change
 *  (seconds of the event loop that also accepts DNS connections). */
function applySteps(cur: readonly StoredRecord[], steps: ReadonlyArray<{ key: { owner: string; type: number }; set: StoredRecord[] }>): StoredRecord[] {
  const sets = new Map<string, StoredRecord[]>();
  for (const r of cur) {
    const k = `${r.owner}\u0000${r.type}`;
    const list = sets.get(k);
    if (list) list.push(r); else sets.set(k, [r]);
  }
  for (const s of steps) {
    const k = `${s.key.owner}\u0000${s.key.type}`;
    sets.delete(k);
    if (s.set.length) sets.set(k, s.set);
  }
  return [...sets.values()].flat();
}

/** Check names by id of the gates just resolved. */
const namesOf = (gates: readonly Gate[]) => new Map(gates.map((g) => [g.record.check!, g.check]));

export async function rrsetRoutes(app: FastifyInstance, { ctx }: { ctx: RouteContext }): Promise<void> {
  const zoneRecords = async (tenant: number | null, name: string) => {
    const z = tenant === null ? undefined : await findZone(ctx.pool, tenant, name);
    if (!z) throw notFound(`zone "${name}"`);
    const records = await loadZoneRecords(ctx.pool, z.id);
    // Names of the health checks records name (issue 20), only when one does.
    const names = records.some((r) => r.check) && tenant !== null ? await checkNames(ctx.pool, tenant) : undefined;
    return { zone: z, records, names };
  };

  app.get<{ Params: { zone: string }; Querystring: Q & { owner?: string; type?: string; effective?: 'true' | 'false' } }>('/v1/zones/:zone/rrsets', {
    schema: {
      tags: ['rrsets'], summary: 'List the RRsets of a zone (its own, or with effective=true the ones it serves: its includes merged in), optionally of one owner and/or type; ETag is the zone version',
      params: obj({ zone: str({ pattern: ZONE_NAME }) }, ['zone']),
      querystring: obj({
        ...tenantQuery, owner: str(), type: str(),
        effective: str({ enum: ['true', 'false'], description: 'true: the RRsets the zone serves, its includes merged in (each with the `zone` it comes from); default false: the zone\'s own.' }),
      }),
      response: responses({ 200: obj({ version: { type: 'integer' }, rrsets: { type: 'array', items: rrsetSchema } }, ['version', 'rrsets']) }, 404, 422),
    },
  }, async (req, reply) => {
    const tenant = await tenantFor(req, ctx.pool, false);
    const effective = req.query.effective === 'true';
    const { zone, records: own, names: ownNames } = await zoneRecords(tenant, req.params.zone);
    const eff = effective ? await effectiveRecords(ctx.pool, zone.id) : [];
    let rs: StoredRecord[] = effective ? eff : own;
    const names = effective && eff.some((r) => r.check) && tenant !== null ? await checkNames(ctx.pool, tenant) : ownNames;
    if (req.query.owner !== undefined) {
      const k = rrsetKey(req.query.owner, 'A');
      rs = rs.filter((r) => r.owner === k.owner);
    }
    if (req.query.type !== undefined) {
      const k = rrsetKey('@', req.query.type);
      rs = rs.filter((r) => r.type === k.type);
    }
    if (!effective) return reply.header('etag', etag(zone.version)).send({ version: zone.version, rrsets: toRRsets(rs, names) });
    const from = new Map(eff.map((r) => [`${r.owner}\u0000${typeName(r.type)}`, r.zone]));
    const rrsets = toRRsets(rs, names).map((s) => ({ ...s, zone: from.get(`${s.owner}\u0000${s.type}`) ?? zone.name }));
    return reply.header('etag', etag(zone.version)).send({ version: zone.version, rrsets });
  });

  app.get<{ Params: { zone: string; owner: string; type: string }; Querystring: Q }>('/v1/zones/:zone/rrsets/:owner/:type', {
    schema: {
      tags: ['rrsets'], summary: 'Get one RRset; ETag is the zone version',
      params: setParams, querystring: obj(tenantQuery),
      response: responses({ 200: rrsetSchema }, 404, 422),
    },
  }, async (req, reply) => {
    const { zone, records: all, names } = await zoneRecords(await tenantFor(req, ctx.pool, false), req.params.zone);
    const k = rrsetKey(req.params.owner, req.params.type);
    const set = toRRsets(all.filter((r) => r.owner === k.owner && r.type === k.type), names)[0];
    if (!set) throw notFound(`RRset ${req.params.owner}/${req.params.type}`);
    return reply.header('etag', etag(zone.version)).send(set);
  });

  app.put<{ Params: { zone: string; owner: string; type: string }; Querystring: Q; Body: { ttl: number; records: string[]; health_checks?: GateMap } }>('/v1/zones/:zone/rrsets/:owner/:type', {
    schema: {
      tags: ['rrsets'], summary: 'Create or replace one RRset (records may name health checks: health_checks)',
      params: setParams, querystring: obj(tenantQuery), headers: ifMatchHeader,
      body: obj({ ttl, records, health_checks: healthChecksField }, ['ttl', 'records']),
      response: responses({ 200: rrsetSchema }, 404, 412, 422),
    },
  }, async (req, reply) => {
    const c = caller(req);
    const set = recordsFromText(req.params.owner, req.params.type, req.body.ttl, req.body.records);
    const gates = gatesOf(set, req.body.health_checks);
    const k = { owner: set[0].owner, type: set[0].type };
    const out = await tx(ctx.pool, c.actor, async (db) => {
      const tenant = await tenantFor(req, db, false);
      await resolveGates(db, tenant, gates);
      return editZone(db, req, tenant, req.params.zone, (cur) => [...without(cur, k), ...set]);
    });
    const warnings = gatedTtlWarnings(req, [set]);
    const shown = toRRsets(set, namesOf(gates))[0];
    return reply.header('etag', etag(out.version)).send(warnings.length ? { ...shown, warnings } : shown);
  });

  app.delete<{ Params: { zone: string; owner: string; type: string }; Querystring: Q }>('/v1/zones/:zone/rrsets/:owner/:type', {
    schema: {
      tags: ['rrsets'], summary: 'Delete one RRset (the apex SOA and NS of a served zone stay)',
      params: setParams, querystring: obj(tenantQuery), headers: ifMatchHeader,
      response: responses({ 204: empty }, 404, 412, 422),
    },
  }, async (req, reply) => {
    const c = caller(req);
    const k = rrsetKey(req.params.owner, req.params.type);
    const out = await tx(ctx.pool, c.actor, async (db) =>
      editZone(db, req, await tenantFor(req, db, false), req.params.zone, (cur) => {
        const rest = without(cur, k);
        if (rest.length === cur.length) throw notFound(`RRset ${req.params.owner}/${req.params.type}`);
        return rest;
      }));
    return reply.code(204).header('etag', etag(out.version)).send();
  });

  app.patch<{ Params: { zone: string }; Querystring: Q; Body: { changes: Change[] } }>('/v1/zones/:zone/rrsets', {
    schema: {
      tags: ['rrsets'], summary: 'Apply a batch of RRset replacements and deletions atomically, in order',
      params: obj({ zone: str({ pattern: ZONE_NAME }) }, ['zone']), querystring: obj(tenantQuery), headers: ifMatchHeader,
      body: obj({ changes: { type: 'array', items: change, minItems: 1, maxItems: 10000 } }, ['changes']),
      response: responses({ 200: obj({ version: { type: 'integer' }, rrsets: { type: 'array', items: rrsetSchema }, warnings: rrsetSchema.properties.warnings }, ['version', 'rrsets']) }, 404, 412, 422),
    },
  }, async (req, reply) => {
    const c = caller(req);
    // Validate every change before touching the database, and report all problems at once.
    const problems: { path: string; problem: string }[] = [];
    const steps: { key: { owner: string; type: number }; set: StoredRecord[] }[] = [];
    const gates: Gate[] = [];
    const all = req.body.changes;
    for (let i = 0; i < all.length; i++) {
      // A 10,000-change batch takes the event loop (which may also accept or answer DNS) for a
      // while: hand it back between slices.
      if (i > 0 && i % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
      const ch = all[i];
      try {
        if (ch.delete) steps.push({ key: rrsetKey(ch.owner, ch.type, `changes[${i}].`), set: [] });
        else {
          const set = recordsFromText(ch.owner, ch.type, ch.ttl!, ch.records!, `changes[${i}].`);
          gates.push(...gatesOf(set, ch.health_checks, `changes[${i}].`));
          steps.push({ key: { owner: set[0].owner, type: set[0].type }, set });
        }
      } catch (e) {
        if (e instanceof ZoneContentError) problems.push(...e.details); else throw e;
      }
    }
    if (problems.length) throw new ZoneContentError(problems);
    const touched = new Set(steps.map((s) => `${s.key.owner}\u0000${s.key.type}`));
    let result: RRset[] = [];
    let names: ReadonlyMap<number, string> | undefined;
    const out = await tx(ctx.pool, c.actor, async (db) => {
      const tenant = await tenantFor(req, db, false);
      await resolveGates(db, tenant, gates);
      return editZone(db, req, tenant, req.params.zone, async (cur) => {
        const rs = applySteps(cur, steps);
        const kept = rs.filter((r) => touched.has(`${r.owner}\u0000${r.type}`));
        names = kept.some((r) => r.check) && tenant !== null ? await checkNames(db, tenant) : undefined;
        result = toRRsets(kept, names);
        return rs;
      });
    });
    const warnings = gatedTtlWarnings(req, steps.map((s) => s.set));
    return reply.header('etag', etag(out.version)).send({ version: out.version, rrsets: result, ...(warnings.length ? { warnings } : {}) });
  });
}
