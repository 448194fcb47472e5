// Liveness, readiness and metrics: no token needed.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { obj, str, errorRef } from '../schemas.js';

export async function healthRoutes(app: FastifyInstance, { ctx }: { ctx: RouteContext }): Promise<void> {
  const status = obj({ status: str() }, ['status']);
  app.get('/healthz', {
    schema: { tags: ['health'], summary: 'The process is alive', security: [], response: { 200: status } },
  }, async () => ({ status: 'ok' }));

  app.get('/readyz', {
    schema: {
      tags: ['health'], summary: 'The database is reachable and the DNS snapshot is loaded', security: [],
      response: { 200: status, 503: errorRef },
    },
  }, async (_req, reply) => {
    const problems: { path: string; problem: string }[] = [];
    try {
      await withTimeout(ctx.pool.query('SELECT 1'), 2000);
    } catch (err) {
      problems.push({ path: 'database', problem: (err as Error).message });
    }
    if (ctx.opts.ready && !ctx.opts.ready()) problems.push({ path: 'snapshot', problem: 'not loaded yet' });
    if (problems.length) return reply.code(503).send({ error: 'unavailable', message: 'not ready', details: problems });
    return { status: 'ready' };
  });

  app.get('/metrics', {
    schema: { tags: ['health'], summary: 'Prometheus metrics', security: [], produces: ['text/plain'], response: { 200: { type: 'string' } } },
  }, async (_req, reply) => {
    void reply.type(ctx.metrics.contentType);
    return ctx.metrics.render();
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, rej) => { t = setTimeout(() => rej(new Error(`no answer within ${ms} ms`)), ms); }),
  ]);
}
