// RRsets of a zone, addressed by owner (relative, "@" for the apex) and type. Every change runs
// through editZone(): one transaction, If-Match, and the zone-wide rules on the resulting content.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { caller, tenantFor } from '../auth.js';
import { findZone } from '../../store/zones.js';
import { loadZoneRecords, recordsFromText } from '../../store/records.js';
import { tx } from '../../store/db.js';
import { notFound } from '../errors.js';
import { editZone, editZoneColumns, etag, toRRsets, rrsetKey, without, type RRset } from '../zone-edit.js';
import { validateChanges, applySteps } from '../rrset-batch.js';
import { validateBodyOffThread, applyBatchOffThread } from '../rrset-batch-runner.js';
import { parseBatchBody, bodyError, PATCH_BODY_SCHEMA, TTL_SCHEMA, RECORDS_SCHEMA, AJV_OPTIONS } from '../rrset-batch-body.js';
import { Ajv } from 'ajv';
import { obj, str, responses, empty, tenantQuery, rrsetSchema, ZONE_NAME, ifMatchHeader } from '../schemas.js';

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
    return { zone: z, records: await loadZoneRecords(ctx.pool, z.id) };
  };

  app.get<{ Params: { zone: string }; Querystring: Q & { owner?: string; type?: string } }>('/v1/zones/:zone/rrsets', {
    schema: {
      tags: ['rrsets'], summary: 'List the RRsets of a zone, optionally of one owner and/or type; ETag is the zone version',
      params: obj({ zone: str({ pattern: ZONE_NAME }) }, ['zone']),
      querystring: obj({ ...tenantQuery, owner: str(), type: str() }),
      response: responses({ 200: obj({ version: { type: 'integer' }, rrsets: { type: 'array', items: rrsetSchema } }, ['version', 'rrsets']) }, 404, 422),
    },
  }, async (req, reply) => {
    const { zone, records: all } = await zoneRecords(await tenantFor(req, ctx.pool, false), req.params.zone);
    let rs = all;
    if (req.query.owner !== undefined) {
      const k = rrsetKey(req.query.owner, 'A');
      rs = rs.filter((r) => r.owner === k.owner);
    }
    if (req.query.type !== undefined) {
      const k = rrsetKey('@', req.query.type);
      rs = rs.filter((r) => r.type === k.type);
    }
    return reply.header('etag', etag(zone.version)).send({ version: zone.version, rrsets: toRRsets(rs) });
  });

  app.get<{ Params: { zone: string; owner: string; type: string }; Querystring: Q }>('/v1/zones/:zone/rrsets/:owner/:type', {
    schema: {
      tags: ['rrsets'], summary: 'Get one RRset; ETag is the zone version',
      params: setParams, querystring: obj(tenantQuery),
      response: responses({ 200: rrsetSchema }, 404, 422),
    },
  }, async (req, reply) => {
    const { zone, records: all } = await zoneRecords(await tenantFor(req, ctx.pool, false), req.params.zone);
    const k = rrsetKey(req.params.owner, req.params.type);
    const set = toRRsets(all.filter((r) => r.owner === k.owner && r.type === k.type))[0];
    if (!set) throw notFound(`RRset ${req.params.owner}/${req.params.type}`);
    return reply.header('etag', etag(zone.version)).send(set);
  });

  app.put<{ Params: { zone: string; owner: string; type: string }; Querystring: Q; Body: { ttl: number; records: string[] } }>('/v1/zones/:zone/rrsets/:owner/:type', {
    schema: {
      tags: ['rrsets'], summary: 'Create or replace one RRset',
      params: setParams, querystring: obj(tenantQuery), headers: ifMatchHeader,
      body: obj({ ttl, records }, ['ttl', 'records']),
      response: responses({ 200: rrsetSchema }, 404, 412, 422),
    },
  }, async (req, reply) => {
    const c = caller(req);
    const set = recordsFromText(req.params.owner, req.params.type, req.body.ttl, req.body.records);
    const k = { owner: set[0].owner, type: set[0].type };
    const out = await tx(ctx.pool, c.actor, async (db) =>
      editZone(db, req, await tenantFor(req, db, false), req.params.zone, (cur) => [...without(cur, k), ...set]));
    return reply.header('etag', etag(out.version)).send(toRRsets(set)[0]);
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
        response: responses({ 200: obj({ version: { type: 'integer' }, rrsets: { type: 'array', items: rrsetSchema } }, ['version', 'rrsets']) }, 404, 412, 422),
      },
    }, async (req, reply) => {
      const c = caller(req);
      if (req.body.length > INLINE_MAX_BYTES) {
        // Every change validated before touching the database (all problems at once), then applied
        // under the zone's lock; both in a thread. The response is the JSON the thread wrote.
        const steps = await validateBodyOffThread(req.body);
        const { version, out } = await tx(ctx.pool, c.actor, async (db) => editZoneColumns(db, req, await tenantFor(req, db, false), req.params.zone,
          (current, rules) => applyBatchOffThread(steps, current, rules), BATCH_STATEMENT_MS));
        return reply.header('etag', etag(version)).type('application/json; charset=utf-8').send(`{"version":${version},"rrsets":${out.rrsets}}`);
      }
      const body = parseBatchBody(req.body);
      if (!body.ok) throw bodyError(body);
      const steps = validateChanges(body.changes);
      const touched = new Set(steps.map((s) => `${s.key.owner}\u0000${s.key.type}`));
      let result: RRset[] = [];
      const out = await tx(ctx.pool, c.actor, async (db) =>
        editZone(db, req, await tenantFor(req, db, false), req.params.zone, (cur) => {
          const rs = applySteps(cur, steps);
          result = toRRsets(rs.filter((r) => touched.has(`${r.owner}\u0000${r.type}`)));
          return rs;
        }));
      return reply.header('etag', etag(out.version)).send({ version: out.version, rrsets: result });
    });
  });
}
