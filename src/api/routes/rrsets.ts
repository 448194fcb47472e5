// RRsets of a zone, addressed by owner (relative, "@" for the apex) and type. Every change runs
// through editZone(): one transaction, If-Match, and the zone-wide rules on the resulting content.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { caller, tenantFor } from '../auth.js';
import { findZone } from '../../store/zones.js';
import { loadZoneRecords, recordsFromText, type StoredRecord } from '../../store/records.js';
import { tx } from '../../store/db.js';
import { notFound } from '../errors.js';
import { editZone, editZoneColumns, etag, toRRsets, rrsetKey, without, type RRset } from '../zone-edit.js';
import { validateChanges, applySteps } from '../rrset-batch.js';
import { validateBodyOffThread, applyBatchOffThread, batchGates } from '../rrset-batch-runner.js';
import { parseBatchBody, bodyError, PATCH_BODY_SCHEMA, TTL_SCHEMA, RECORDS_SCHEMA, AJV_OPTIONS } from '../rrset-batch-body.js';
import { Ajv } from 'ajv';
import { obj, str, responses, empty, tenantQuery, rrsetSchema, healthChecksField, ZONE_NAME, ifMatchHeader } from '../schemas.js';
import { gatesOf, gatedTtlWarnings, logTtlWarnings, namesOf, type GateMap } from '../health-gates.js';
import { resolveGates, gateIds } from '../health-gate-ids.js';
import { checkNames } from '../../store/health.js';
import { effectiveRecords } from '../../store/zone-includes.js';
import { typeName } from '../../dns/constants.js';

type Q = { tenant?: string };
const ttl = TTL_SCHEMA;
const records = RECORDS_SCHEMA;
const setParams = obj({ zone: str({ pattern: ZONE_NAME }), owner: str({ maxLength: 1024 }), type: str({ maxLength: 16 }) }, ['zone', 'owner', 'type']);
/** A PATCH body larger than this (about 200 changes) is parsed, validated, applied and checked in
 *  a thread (rrset-batch-runner.ts), not on the event loop that may also answer DNS; a smaller one
 *  is not worth a thread (a few ms of work against a thread's start). */
const INLINE_MAX_BYTES = 16 * 1024;
/** Statement timeout for writing a large batch (PostgreSQL computes the difference over the zone). */
const BATCH_STATEMENT_MS = 2 * 60_000;

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

  // PATCH in a context of its own: its body reaches the handler as bytes and is parsed and checked
  // by rrset-batch-body.ts (in a thread when large), as fastify would; params, query and headers
  // are checked by an Ajv with the app's options.
  await app.register(async (batch) => {
    batch.removeContentTypeParser('application/json');
    batch.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    const ajv = new Ajv(AJV_OPTIONS);
    batch.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? () => true : ajv.compile(schema)));
    batch.patch<{ Params: { zone: string }; Querystring: Q; Body: Buffer }>('/v1/zones/:zone/rrsets', {
      schema: {
        tags: ['rrsets'], summary: 'Apply a batch of RRset replacements and deletions atomically, in order',
        params: obj({ zone: str({ pattern: ZONE_NAME }) }, ['zone']), querystring: obj(tenantQuery), headers: ifMatchHeader,
        body: PATCH_BODY_SCHEMA,
        response: responses({ 200: obj({ version: { type: 'integer' }, rrsets: { type: 'array', items: rrsetSchema }, warnings: rrsetSchema.properties.warnings }, ['version', 'rrsets']) }, 404, 412, 422),
      },
    }, async (req, reply) => {
      const c = caller(req);
      if (req.body.length > INLINE_MAX_BYTES) {
        // Every change validated before touching the database (all problems at once), then applied
        // under the zone's lock; both in a thread. The response is the JSON the thread wrote.
        const valid = await validateBodyOffThread(req.body);
        const { version, out } = await tx(ctx.pool, c.actor, async (db) => {
          const tenant = await tenantFor(req, db, false);
          // The checks the gates name, as the tenant's ids (422 unknown_health_check as resolveGates
          // gives it inline); the thread sets them on the gated records.
          const ids = await gateIds(db, tenant, valid.checks, () => batchGates(valid));
          return editZoneColumns(db, req, tenant, req.params.zone, (current, rules) => applyBatchOffThread(valid, current, rules, [...ids]), BATCH_STATEMENT_MS);
        });
        const warnings = logTtlWarnings(req, out.warnings);
        const tail = warnings.length ? `,"warnings":${JSON.stringify(warnings)}` : '';
        return reply.header('etag', etag(version)).type('application/json; charset=utf-8').send(`{"version":${version},"rrsets":${out.rrsets}${tail}}`);
      }
      const body = parseBatchBody(req.body);
      if (!body.ok) throw bodyError(body);
      const { steps, gates } = validateChanges(body.changes);
      const touched = new Set(steps.map((s) => `${s.key.owner}\u0000${s.key.type}`));
      let result: RRset[] = [];
      const out = await tx(ctx.pool, c.actor, async (db) => {
        const tenant = await tenantFor(req, db, false);
        await resolveGates(db, tenant, gates);
        return editZone(db, req, tenant, req.params.zone, (cur) => {
          const rs = applySteps(cur, steps);
          // The touched RRsets hold only the batch's records: the checks they name are its gates.
          result = toRRsets(rs.filter((r) => touched.has(`${r.owner}\u0000${r.type}`)), namesOf(gates));
          return rs;
        });
      });
      const warnings = gatedTtlWarnings(req, steps.map((s) => s.set));
      return reply.header('etag', etag(out.version)).send({ version: out.version, rrsets: result, ...(warnings.length ? { warnings } : {}) });
    });
  });
}
