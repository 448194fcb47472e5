// A zone as an RFC 1035 master file: PUT replaces all its records atomically, GET writes it out.
// The origin is ?origin=, else (for an upload) the $ORIGIN the file opens with, else the first
// domain (by name) that points at the zone, else the zone name. This plugin is encapsulated: it takes text/dns only, and a larger body than the JSON routes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RouteContext } from '../app.js';
import { caller, tenantFor } from '../auth.js';
import { findZone, servingDomains, zoneUse, zoneVersion } from '../../store/zones.js';
import { loadZoneRecords, longestApexWire, replaceZoneRecordColumns } from '../../store/records.js';
import { zoneText } from '../../store/zone-file-io.js';
import { parseZoneFileOffThread } from '../zone-file-parser.js';
import { parseAbsoluteName, NameError } from '../../dns/name.js';
import type { Client, Pool } from '../../store/db.js';
import { tx } from '../../store/db.js';
import { ApiError, notFound, errorHandler } from '../errors.js';
import { checkIfMatch, lockZoneOr404, etag } from '../zone-edit.js';
import { effectiveRecords } from '../../store/zone-includes.js';
import { obj, str, responses, tenantQuery, ZONE_NAME, ifMatchHeader } from '../schemas.js';

type Q = { tenant?: string; origin?: string; effective?: 'true' | 'false' };
/** Statement timeout for writing an uploaded file: a 10 MiB file is about 400,000 rows. */
const ZONE_FILE_STATEMENT_MS = 10 * 60_000;
const params = obj({ zone: str({ pattern: ZONE_NAME }) }, ['zone']);
const query = obj({ ...tenantQuery, origin: str({ description: 'Origin of relative names; default: (PUT) the $ORIGIN the file opens with, else the first domain pointing at the zone, else the zone name.' }) });

/** What parsing a file for the zone depends on: the default origin and the delegation-only rules. */
async function parseInputs(db: Client | Pool, zone: { id: number; name: string }): Promise<{ fallbackOrigin: string; delegationOnly: boolean; apexWireLength: number }> {
  const domains = await servingDomains(db, zone.id);
  // RRset sizes are checked under the longest apex that serves the zone (RFC 1035 4.2.2).
  return { fallbackOrigin: domains[0]?.name ?? zone.name, delegationOnly: (await zoneUse(db, zone.id)).delegationOnly,
    apexWireLength: longestApexWire(domains.map((d) => d.name)) };
}

async function originOf(db: Client | Pool, req: FastifyRequest<{ Querystring: Q }>, zone: { id: number; name: string }): Promise<{ apex: string[]; serial?: number }> {
  const domains = await servingDomains(db, zone.id);
  const text = req.query.origin ?? domains[0]?.name ?? zone.name;
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
/** Most records a zone file may hold (GLIDEPATH_ZONE_MAX_RECORDS overrides it). */
export const ZONE_MAX_RECORDS = 500_000;

export async function zoneFileRoutes(app: FastifyInstance, { ctx }: { ctx: RouteContext }): Promise<void> {
  const maxBytes = ctx.opts.zoneFile?.maxBytes ?? ZONE_FILE_LIMIT;
  const maxRecords = ctx.opts.zoneFile?.maxRecords ?? ZONE_MAX_RECORDS;
  app.removeAllContentTypeParsers();
  // Bytes, not a string: they go to the parser thread as they are (transferred, not copied).
  app.addContentTypeParser('text/dns', { parseAs: 'buffer', bodyLimit: maxBytes }, (_req, body, done) => done(null, body));
  const handle = errorHandler((err) => { ctx.opts.database?.failed(err); });
  app.setErrorHandler((err, req, reply) => {
    if ((err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const msg = `a zone file may have at most ${maxBytes} bytes (GLIDEPATH_ZONE_FILE_MAX_BYTES)`;
      handle(new ApiError(413, msg, [{ path: 'body', problem: msg }]), req, reply); // payload_too_large, as before
      return;
    }
    handle(err, req, reply);
  });

  app.put<{ Params: { zone: string }; Querystring: Q; Body: Buffer }>('/v1/zones/:zone/file', {
    bodyLimit: maxBytes,
    schema: {
      tags: ['zone files'], consumes: ['text/dns'], params, querystring: query, headers: ifMatchHeader,
      summary: 'Replace all records of a zone by an RFC 1035 master file (Content-Type: text/dns; at most GLIDEPATH_ZONE_FILE_MAX_BYTES, '
        + 'default 10 MiB: 413 payload_too_large; at most GLIDEPATH_ZONE_MAX_RECORDS records, default 500,000: 422 too_many_records)',
      response: responses({ 200: obj({ version: { type: 'integer' }, records: { type: 'integer' } }, ['version', 'records']) }, 404, 409, 412, 413, 415, 422),
    },
  }, async (req, reply) => {
    const c = caller(req);
    if (!Buffer.isBuffer(req.body)) throw new ApiError('unsupported_media_type', 'send the zone as Content-Type: text/dns');
    // What the parse depends on, read first: the parse runs outside the transaction (no lock or
    // connection held meanwhile), and the transaction checks that it still holds.
    const tenantId = await tenantFor(req, ctx.pool, false);
    const found = tenantId === null ? undefined : await findZone(ctx.pool, tenantId, req.params.zone);
    if (!found) throw notFound(`zone "${req.params.zone}"`);
    const before = await parseInputs(ctx.pool, found);
    const cols = await parseZoneFileOffThread({
      bytes: new Uint8Array(req.body), origin: req.query.origin, fallbackOrigin: before.fallbackOrigin,
      delegationOnly: before.delegationOnly, maxRecords, apexWireLength: before.apexWireLength,
    });
    const out = await tx(ctx.pool, c.actor, async (db) => {
      const zone = await lockZoneOr404(db, tenantId, req.params.zone);
      checkIfMatch(req, zone.version);
      const now = await parseInputs(db, zone);
      if (zone.id !== found.id || now.delegationOnly !== before.delegationOnly || now.fallbackOrigin !== before.fallbackOrigin) {
        throw new ApiError('zone_changed', `zone "${req.params.zone}" changed how it is served while the file was read; send it again`);
      }
      await replaceZoneRecordColumns(db, zone.id, cols, ZONE_FILE_STATEMENT_MS);
      return { version: await zoneVersion(db, zone.id), records: cols.count };
    });
    return reply.header('etag', etag(out.version)).send(out);
  });

  app.get<{ Params: { zone: string }; Querystring: Q }>('/v1/zones/:zone/file', {
    schema: {
      tags: ['zone files'], summary: 'The zone as an RFC 1035 master file; ETag is the zone version',
      produces: ['text/dns'], params,
      querystring: obj({ ...query.properties, effective: str({ enum: ['true', 'false'], description: 'true: the records the zone serves, the zones it includes merged in (what AXFR and `glidepath export` show); default false: its own (what a PUT of the file gives back).' }) }),
      response: responses({ 200: { type: 'string', description: 'RFC 1035 master file' } }, 404, 422),
    },
  }, async (req, reply) => {
    const tenantId = await tenantFor(req, ctx.pool, false);
    const zone = tenantId === null ? undefined : await findZone(ctx.pool, tenantId, req.params.zone);
    if (!zone) throw notFound(`zone "${req.params.zone}"`);
    const { apex, serial } = await originOf(ctx.pool, req, zone);
    const records = req.query.effective === 'true' ? await effectiveRecords(ctx.pool, zone.id) : await loadZoneRecords(ctx.pool, zone.id);
    const text = zoneText(apex, records, serial);
    return reply.header('etag', etag(zone.version)).type('text/dns; charset=utf-8').send(text);
  });
}
