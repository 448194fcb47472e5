// A zone as an RFC 1035 master file: PUT replaces all its records atomically, GET writes it out.
// The origin is ?origin=, else (for an upload) the $ORIGIN the file opens with, else the first
// domain (by name) that points at the zone, else the zone name. This plugin is encapsulated: it takes text/dns only, and a larger body than the JSON routes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RouteContext } from '../app.js';
import { caller, tenantFor } from '../auth.js';
import { findZone, servingDomains } from '../../store/zones.js';
import { loadZoneRecords } from '../../store/records.js';
import { toStored, zoneText } from '../../store/zone-file-io.js';
import { parseZoneFile, leadingOrigin } from '../../zonefile/parse.js';
import { parseAbsoluteName, NameError } from '../../dns/name.js';
import type { Client, Pool } from '../../store/db.js';
import { tx } from '../../store/db.js';
import { ApiError, notFound } from '../errors.js';
import { editZone, etag } from '../zone-edit.js';
import { obj, str, responses, tenantQuery, ZONE_NAME, ifMatchHeader } from '../schemas.js';

type Q = { tenant?: string; origin?: string };
const params = obj({ zone: str({ pattern: ZONE_NAME }) }, ['zone']);
const query = obj({ ...tenantQuery, origin: str({ description: 'Origin of relative names; default: (PUT) the $ORIGIN the file opens with, else the first domain pointing at the zone, else the zone name.' }) });

async function originOf(db: Client | Pool, req: FastifyRequest<{ Querystring: Q }>, zone: { id: number; name: string }, file?: string): Promise<{ apex: string[]; serial?: number }> {
  const domains = await servingDomains(db, zone.id);
  const text = req.query.origin ?? (file === undefined ? undefined : leadingOrigin(file)) ?? domains[0]?.name ?? zone.name;
  let apex: string[];
  try {
    apex = parseAbsoluteName(text);
  } catch (e) {
    if (e instanceof NameError) throw new ApiError('invalid_data', `origin "${text}": ${e.message}`, [{ path: 'origin', problem: e.message }]);
    throw e;
  }
  const key = text.toLowerCase().replace(/\.?$/, '.');
  return { apex, serial: domains.find((d) => d.name === key)?.serial };
}

/** Largest zone file a PUT may carry (JSON bodies have their own, smaller limit in app.ts). */
export const ZONE_FILE_LIMIT = 10 * 1024 * 1024;

export async function zoneFileRoutes(app: FastifyInstance, { ctx }: { ctx: RouteContext }): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('text/dns', { parseAs: 'string', bodyLimit: ZONE_FILE_LIMIT }, (_req, body, done) => done(null, body));

  app.put<{ Params: { zone: string }; Querystring: Q; Body: string }>('/v1/zones/:zone/file', {
    bodyLimit: ZONE_FILE_LIMIT,
    schema: {
      tags: ['zone files'], summary: 'Replace all records of a zone by an RFC 1035 master file (Content-Type: text/dns, at most 10 MiB)',
      consumes: ['text/dns'], params, querystring: query, headers: ifMatchHeader,
      body: { type: 'string' },
      response: responses({ 200: obj({ version: { type: 'integer' }, records: { type: 'integer' } }, ['version', 'records']) }, 404, 412, 413, 415, 422),
    },
  }, async (req, reply) => {
    const c = caller(req);
    if (typeof req.body !== 'string') throw new ApiError('unsupported_media_type', 'send the zone as Content-Type: text/dns');
    const out = await tx(ctx.pool, c.actor, async (db) => {
      const tenantId = await tenantFor(req, db, false);
      const zone = tenantId === null ? undefined : await findZone(db, tenantId, req.params.zone);
      if (!zone) throw notFound(`zone "${req.params.zone}"`);
      const { apex } = await originOf(db, req, zone, req.body);
      const records = toStored(parseZoneFile(req.body, { origin: apex }));
      const r = await editZone(db, req, tenantId, req.params.zone, () => records, { requireApex: true });
      return { version: r.version, records: records.length };
    });
    return reply.header('etag', etag(out.version)).send(out);
  });

  app.get<{ Params: { zone: string }; Querystring: Q }>('/v1/zones/:zone/file', {
    schema: {
      tags: ['zone files'], summary: 'The zone as an RFC 1035 master file; ETag is the zone version',
      produces: ['text/dns'], params, querystring: query,
      response: responses({ 200: { type: 'string', description: 'RFC 1035 master file' } }, 404, 422),
    },
  }, async (req, reply) => {
    const tenantId = await tenantFor(req, ctx.pool, false);
    const zone = tenantId === null ? undefined : await findZone(ctx.pool, tenantId, req.params.zone);
    if (!zone) throw notFound(`zone "${req.params.zone}"`);
    const { apex, serial } = await originOf(ctx.pool, req, zone);
    const text = zoneText(apex, await loadZoneRecords(ctx.pool, zone.id), serial);
    return reply.header('etag', etag(zone.version)).type('text/dns; charset=utf-8').send(text);
  });
}
