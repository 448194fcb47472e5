// The scope of the PowerDNS-compatible API (/api, /api/v1/servers/localhost/...), so that tools written for
// PowerDNS (lego, cert-manager, external-dns, octoDNS, DNSControl, terraform) work unchanged. See
// ../../../../shared/design/powerdns-api-clients.md for what each client sends and expects. Its own
// conventions, within this plugin only: `X-API-Key` carries a Glidepath token (header names are
// case-insensitive in HTTP, and node lower-cases them), errors are {"error": "..."}, and an empty
// body with Content-Type application/json is no body (lego and terraform send that).
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { authenticate } from '../auth.js';
import type { ClientCertMode } from '../client-cert.js';
import { PdnsError, pdnsErrorHandler } from './errors.js';
import { pdnsServerRoutes } from '../routes/pdns-server.js';
import { pdnsZoneRoutes } from '../routes/pdns-zones.js';

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

  await app.register(pdnsServerRoutes);
  await app.register(pdnsZoneRoutes, { ctx });
}
