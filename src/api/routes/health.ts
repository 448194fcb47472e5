// Liveness, readiness and metrics: no token needed.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { obj, str, errorRef } from '../schemas.js';

export async function healthRoutes(app: FastifyInstance, { ctx }: { ctx: RouteContext }): Promise<void> {
  const status = obj({ status: str() }, ['status']);
  // Alive means DNS is answered: under `serve --workers` the primary with no worker answering is
  // not healthy, whatever its API says (a supervisor should see that).
  app.get('/healthz', {
    schema: { tags: ['health'], summary: 'The process is alive (and, under serve --workers, at least one worker answers DNS)', security: [], response: { 200: status, 503: errorRef } },
  }, async (_req, reply) => {
    const w = ctx.opts.workers?.();
    if (w && w.ready === 0) {
      return reply.code(503).send({ error: 'no_dns_worker', message: `no worker answers DNS (0 of ${w.wanted} ready); replacements are being started`, details: [{ path: 'workers', problem: '0 ready' }] });
    }
    return { status: 'ok' };
  });

  const readiness = obj({
    status: str({ description: '"ready": DNS is answered from a loaded snapshot (also while the database is down).' }),
    dns: str({ description: '"answering", or "not_loaded" while no snapshot is loaded.' }),
    database: str({ description: '"up", or "down": the API answers 503 database_unavailable, DNS answers from the snapshot it has.' }),
    workers: obj({ ready: { type: 'integer' }, wanted: { type: 'integer' } }, ['ready', 'wanted']),
  }, ['status', 'dns', 'database']);
  app.get('/readyz', {
    schema: {
      tags: ['health'], security: [],
      summary: 'DNS is answered from a loaded snapshot (a DNS load balancer may keep the node); the database state is a separate field',
      response: { 200: readiness, 503: errorRef },
    },
  }, async (_req, reply) => {
    let database: 'up' | 'down';
    if (ctx.opts.database) {
      database = ctx.opts.database.up ? 'up' : 'down';
    } else {
      database = await withTimeout(ctx.pool.query('SELECT 1'), 2000).then(() => 'up' as const, () => 'down' as const);
    }
    const w = ctx.opts.workers?.();
    if ((ctx.opts.ready && !ctx.opts.ready()) || (w && w.ready === 0)) {
      const details = [{ path: 'snapshot', problem: w ? `no worker answers DNS yet (0 of ${w.wanted} ready)` : 'not loaded yet' }];
      if (database === 'down') details.push({ path: 'database', problem: ctx.opts.database?.problem ?? 'unreachable' });
      return reply.code(503).send({ error: 'unavailable', message: 'not ready: DNS is not answered yet', details });
    }
    return { status: 'ready', dns: 'answering', database, ...(w ? { workers: w } : {}) };
  });

  app.get('/metrics', {
    schema: { tags: ['health'], summary: 'Prometheus metrics', security: [], produces: ['text/plain'], response: { 200: { type: 'string' } } },
  }, async (_req, reply) => {
    void reply.type('text/plain; version=0.0.4; charset=utf-8');
    return ctx.metrics.render() + ((await ctx.opts.metrics?.()) ?? '');
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, rej) => { t = setTimeout(() => rej(new Error(`no answer within ${ms} ms`)), ms); }),
  ]);
}
