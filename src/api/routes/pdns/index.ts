// The PowerDNS-compatible API (/api, /api/v1/servers/localhost/...), so that tools written for
// PowerDNS (lego, cert-manager, external-dns, octoDNS, DNSControl, terraform) work unchanged. See
// ../../../../shared/design/powerdns-api-clients.md for what each client sends and expects. Its own
// conventions, within this plugin only: `X-API-Key` carries a Glidepath token (header names are
// case-insensitive in HTTP, and node lower-cases them), errors are {"error": "..."}, and an empty
// body with Content-Type application/json is no body (lego and terraform send that).
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../../app.js';
import { authenticate } from '../../auth.js';
import type { ClientCertMode } from '../../client-cert.js';
import { PdnsError, pdnsErrorHandler } from './errors.js';
import { pdnsZoneRoutes } from './zones.js';
import { SERVER_PATH } from './zone-json.js';

/** pdns ws-api.cc: a numeric X.Y.Z version (octoDNS parses it with int()), at or above 4.2 so that
 *  octoDNS takes a 404 to mean "no such zone". */
export const PDNS_VERSION = '4.9.0';

const server = {
  type: 'Server', id: 'localhost', daemon_type: 'authoritative', version: PDNS_VERSION,
  url: SERVER_PATH, config_url: `${SERVER_PATH}/config{/config_setting}`, zones_url: `${SERVER_PATH}/zones{/zone}`,
};

export async function pdnsRoutes(app: FastifyInstance, { ctx, certMode }: { ctx: RouteContext; certMode: ClientCertMode }): Promise<void> {
  // fastify's own JSON parser refuses an empty body (FST_ERR_CTP_EMPTY_JSON_BODY); here it is none.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, text, done) => {
    const s = String(text);
    if (s.trim() === '') { done(null, undefined); return; }
    try { done(null, JSON.parse(s) as unknown); } catch { done(new PdnsError(400, 'the body is not valid JSON', 'bad_json'), undefined); }
  });
  app.setErrorHandler(pdnsErrorHandler);
  // mittwald/go-powerdns (DNSControl) parses an error body only when Content-Type is exactly
  // application/json; fastify would add "; charset=utf-8" (JSON is UTF-8 anyway, RFC 8259 8.1).
  app.addHook('onSend', async (_req, reply, payload) => {
    const ct = reply.getHeader('content-type');
    if (typeof ct === 'string' && ct.startsWith('application/json')) void reply.header('content-type', 'application/json');
    return payload;
  });
  app.setNotFoundHandler((_req, reply) => { void reply.code(404).send({ error: 'Not Found', code: 'not_found' }); });
  app.addHook('onRequest', async (req) => {
    const key = req.headers['x-api-key'];
    const token = typeof key === 'string' && key !== '' ? key : undefined;
    if (!token && certMode === 'off') throw new PdnsError(401, 'Unauthorized: X-API-Key is missing', 'unauthorized');
    req.caller = await authenticate(ctx.pool, ctx.opts.adminToken, req, certMode, token);
  });

  app.get('/', { schema: { tags: ['powerdns'], summary: 'PowerDNS: API versions' } }, async () => [{ url: '/api/v1', version: 1 }]);
  app.get('/v1', { schema: { tags: ['powerdns'], summary: 'PowerDNS: API v1 root' } }, async () => [{ url: '/api/v1', version: 1 }]);
  app.get('/v1/servers', { schema: { tags: ['powerdns'], summary: 'PowerDNS: servers' } }, async () => [server]);
  app.get('/v1/servers/localhost', { schema: { tags: ['powerdns'], summary: 'PowerDNS: this server' } }, async () => server);
  app.get('/v1/servers/localhost/config', { schema: { tags: ['powerdns'], summary: 'PowerDNS: configuration (none exposed)' } }, async () => []);
  app.get('/v1/servers/localhost/statistics', { schema: { tags: ['powerdns'], summary: 'PowerDNS: statistics (see /metrics)' } }, async () => []);
  await app.register(pdnsZoneRoutes, { ctx });
}
