// The REST API: fastify with JSON schemas on every route (which also generate api/openapi.json),
// bearer-token auth, one error shape, request logs and Prometheus metrics. No listen here: main.ts
// (or a test) decides where.
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { AJV_OPTIONS } from './rrset-batch-body.js';
import type { Pool } from '../store/db.js';
import type { Logger } from '../log.js';
import type { SecureContextOptions } from 'node:tls';
import { authenticate, bearer } from './auth.js';
import type { ClientCertMode } from './client-cert.js';
import { clientCertRoutes } from './routes/client-certs.js';
import { errorHandler, ApiError, databaseUnavailable, type ErrorCode } from './errors.js';
import type { DatabaseState } from '../store/db-monitor.js';
import { shared } from './schemas.js';
import { Metrics } from '../metrics/registry.js';
import { healthRoutes } from './routes/health.js';
import { tenantRoutes } from './routes/tenants.js';
import { tokenRoutes } from './routes/tokens.js';
import { zoneRoutes } from './routes/zones.js';
import { rrsetRoutes } from './routes/rrsets.js';
import { zoneFileRoutes } from './routes/zonefile.js';
import { domainRoutes } from './routes/domains.js';
import { statsRoutes } from './routes/stats.js';
import { pzcRoutes } from './routes/pzc.js';
import { transferRoutes } from './routes/transfer.js';
import { dnssecRoutes } from './routes/dnssec.js';
import type { KekHolder } from '../store/key-file.js';
import type { RolloverSettings } from '../store/dnssec-rollover.js';
import { pdnsRoutes } from './pdns/scope.js';
import { updatePolicyRoutes } from './routes/update-policy.js';
import { healthCheckRoutes, HEARTBEAT_ROUTE } from './routes/health-checks.js';

export interface AppOptions {
  pool: Pool;
  log: Logger;
  adminToken?: string;
  /** True once the DNS side has loaded its snapshot. */
  ready?: () => boolean;
  /** The registry /metrics renders (with the DNS side's collectors); without one, the API's alone. */
  metrics?: Metrics;
  /** HTTPS (GLIDEPATH_API_TLS_CERT/_KEY) and, with CAs, client certificates. */
  https?: ApiTlsMaterial;
  /** The key that encrypts DNSSEC private keys (GLIDEPATH_KEY_FILE), read when first needed. */
  kek?: KekHolder;
  /** DNSSEC key rollovers: the clock and propagation delay their times are computed with. */
  rollover?: RolloverSettings;
  /** An edge node: /readyz reports this (lag, journal position) instead of checking the database. */
  readiness?: () => Promise<Readiness>;
  /** Only /healthz, /readyz and /metrics (an edge writes nothing, and has no tenant routes). */
  healthOnly?: boolean;
  /** The database's state (store/db-monitor.ts): while it is down, /v1 answers 503 at once. */
  database?: DatabaseState & { failed(err: unknown): boolean };
  /** Zone-file uploads: largest body, most records (GLIDEPATH_ZONE_FILE_MAX_BYTES, _ZONE_MAX_RECORDS). */
  zoneFile?: { maxBytes: number; maxRecords: number };
  /** Workers answering DNS and how many are wanted (serve --workers); /healthz fails at 0. */
  workers?: () => { ready: number; wanted: number };
  /** Per-domain statistics: how long per-minute rows are kept (GLIDEPATH_STATS_MINUTE_RETENTION). */
  stats?: { minuteKeepS: number };
}

/** An edge's /readyz: what makes it not ready, and its replication report (feed/readiness.ts makes
 *  it; the fields are the JSON's, see routes/health.ts). */
export interface Readiness {
  problems: Array<{ path: string; problem: string }>;
  replication: Record<string, string | number | boolean | null>;
}

/** PEM contents of the API's certificate and key, the client CAs and revocation lists. */
export interface ApiTlsMaterial {
  cert: Buffer;
  key: Buffer;
  clientCa: Buffer[];
  clientCrl: Buffer[];
  clientCert: ClientCertMode;
}

/** The part of the TLS setup that SIGHUP swaps (server.setSecureContext): certificate, key, CAs
 *  and CRLs. Whether a certificate is asked for is fixed at start. */
export function apiSecureContext(m: ApiTlsMaterial): SecureContextOptions {
  return {
    cert: m.cert, key: m.key, minVersion: 'TLSv1.2', honorCipherOrder: true,
    ...(m.clientCa.length ? { ca: m.clientCa } : {}),
    ...(m.clientCrl.length ? { crl: m.clientCrl } : {}),
  };
}

/** What every route plugin receives. */
export interface RouteContext { pool: Pool; opts: AppOptions; metrics: Metrics }

export const JSON_BODY_LIMIT = 1024 * 1024;

export const MAX_PARAM_LENGTH = 4096;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const certMode: ClientCertMode = opts.https && opts.https.clientCa.length ? opts.https.clientCert : 'off';
  const app = Fastify({
    // The certificate is asked for but any is accepted at the TLS layer: auth.ts turns a missing,
    // unknown, expired or revoked one into a 401 that says which (client-cert.ts).
    ...(opts.https ? { https: { ...apiSecureContext(opts.https), requestCert: certMode !== 'off', rejectUnauthorized: false } } : {}),
    loggerInstance: opts.log,
    // Our own one-line request log below (never with headers, so never with the token).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: JSON_BODY_LIMIT,
    // Owner and domain names sit in the path: a 255-octet name (RFC 1035 2.3.4) in presentation
    // form with \DDD escapes, percent-encoded, can take about 1,600 characters (fastify's default
    // is 100). A longer one still gets the one error shape, through frameworkErrors.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: (err, req, reply) => errorHandler()(err, req, reply),
    genReqId: (req) => {
      const h = req.headers['x-request-id'];
      return typeof h === 'string' && REQUEST_ID.test(h) ? h : randomUUID();
    },
    // No coercion and no silent removal: a wrong type or an unknown field is a 400.
    ajv: { customOptions: { ...AJV_OPTIONS } },
  });
  const ctx: RouteContext = { pool: opts.pool, opts, metrics: opts.metrics ?? new Metrics() };

  app.decorateRequest('caller', null);
  app.decorateRequest('tenantName', null);
  for (const s of shared) app.addSchema(s);
  // Only JSON (and text/dns on the zone file route): anything else is a 415.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler((err) => { opts.database?.failed(err); }));
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: 'route_not_found' satisfies ErrorCode, message: `no route ${req.method} ${req.url.split('?')[0]}`, details: [] });
  });

  app.addHook('onRequest', async (req, reply) => {
    void reply.header('x-request-id', req.id);
    if (req.url === '/v1' || req.url.startsWith('/v1/') || req.url.startsWith('/v1?')) {
      // Fail fast through an outage: no connect or statement timeout to wait out per request.
      if (opts.database && !opts.database.up) throw databaseUnavailable();
      req.caller = await authenticate(opts.pool, opts.adminToken, req, certMode, bearer(req), req.routeOptions.url === HEARTBEAT_ROUTE);
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    ctx.metrics.observeRequest(req.method, route, reply.statusCode, reply.elapsedTime / 1000);
    req.log.info({
      method: req.method, route, status: reply.statusCode, // reqId: req.log carries it already
      tenant: req.tenantName ?? req.caller?.tenantName ?? undefined,
      actor: req.caller?.actor, ms: Math.round(reply.elapsedTime * 10) / 10,
    }, 'request');
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Glidepath API',
        version: '1',
        description: 'Zones, RRsets, domains and tokens of a Glidepath DNS server. Every /v1 route takes `Authorization: Bearer <token>`. '
          + 'A tenant token sees only its own tenant; another tenant\'s zones and domains answer 404, as missing ones do. '
          + 'Admin tokens manage tenants and tokens, and act on a tenant\'s zones and domains with `?tenant=NAME` '
          + '(default: the tenant "default", created on first write). Over HTTPS with GLIDEPATH_API_CLIENT_CA, a client certificate '
          + 'mapped to a tenant with /v1/client-certs authenticates like that tenant\'s token. Errors are `{error, message, details: [{path, problem}]}`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });

  await app.register(healthRoutes, { ctx });
  if (opts.healthOnly) {
    await app.ready();
    return app as unknown as FastifyInstance;
  }
  await app.register(tenantRoutes, { ctx });
  await app.register(tokenRoutes, { ctx });
  await app.register(zoneRoutes, { ctx });
  await app.register(rrsetRoutes, { ctx });
  await app.register(zoneFileRoutes, { ctx });
  await app.register(domainRoutes, { ctx });
  await app.register(statsRoutes, { ctx });
  await app.register(pzcRoutes, { ctx });
  await app.register(clientCertRoutes, { ctx });
  await app.register(transferRoutes, { ctx });
  await app.register(dnssecRoutes, { ctx });
  await app.register(updatePolicyRoutes, { ctx });
  await app.register(healthCheckRoutes, { ctx });
  // PowerDNS-compatible API: its own auth header, error shape and body parsing, within /api only.
  await app.register(pdnsRoutes, { ctx, certMode, prefix: '/api' });
  await app.ready();
  // Typed with our pino Logger; main.ts and the tests only need the plain instance.
  return app as unknown as FastifyInstance;
}

export { ApiError };
