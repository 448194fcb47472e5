// Liveness, readiness and metrics: no token needed.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { obj, str } from '../schemas.js';

const num = { type: 'number' } as const;
const nullable = (t: string) => ({ type: [t, 'null'] });
/** An edge's replication report (src/feed/readiness.ts), in /readyz whether ready or not. */
const replication = obj({
  role: str(), node: str(), journal_seq: { type: 'integer' }, database_journal_seq: nullable('integer'),
  lag_seconds: num, replay_lag_seconds: nullable('number'), standby: nullable('boolean'), wal_receiver: nullable('string'),
  database_error: nullable('string'), max_lag_seconds: num,
}, ['role', 'node', 'journal_seq', 'database_journal_seq', 'lag_seconds', 'replay_lag_seconds', 'standby', 'wal_receiver', 'database_error', 'max_lag_seconds'],
{ description: 'Edge nodes (GLIDEPATH_ROLE=edge) only: the journal position applied and the lag behind the database and its primary.' });
const problem = obj({ path: str(), problem: str() }, ['path', 'problem']);

export async function healthRoutes(app: FastifyInstance, { ctx }: { ctx: RouteContext }): Promise<void> {
  const status = obj({ status: str() }, ['status']);
  // Alive means DNS is answered: under `serve --workers` the primary with no worker answering is
  // not healthy, whatever its API says (a supervisor should see that).
  app.get('/healthz', {
    schema: {
      tags: ['health'], summary: 'The process is alive (and, under serve --workers, at least one worker answers DNS)', security: [],
      response: { 200: status, 503: obj({ error: str(), message: str(), details: { type: 'array', items: problem } }, ['error', 'message', 'details']) },
    },
  }, async (_req, reply) => {
    const w = ctx.opts.workers?.();
    if (w && w.ready === 0) {
      return reply.code(503).send({ error: 'no_dns_worker', message: `no worker answers DNS (0 of ${w.wanted} ready); replacements are being started`, details: [{ path: 'workers', problem: '0 ready' }] });
    }
    return { status: 'ok' };
  });

  app.get('/readyz', {
    schema: {
      tags: ['health'],
      summary: 'DNS is answered from a loaded snapshot (also while the database is down: `database` says so, and a DNS load balancer may keep the node); '
        + 'on an edge: the snapshot is loaded and lags by at most GLIDEPATH_MAX_LAG',
      security: [],
      response: {
        200: obj({
          status: str({ description: '"ready": DNS is answered from a loaded snapshot.' }),
          dns: str({ description: '"answering".' }),
          database: str({ description: '"up", or "down": the API answers 503 database_unavailable, DNS answers from the snapshot it has.' }),
          workers: obj({ ready: { type: 'integer' }, wanted: { type: 'integer' } }, ['ready', 'wanted']),
          replication,
        }, ['status']),
        503: obj({ error: str(), message: str(), details: { type: 'array', items: problem }, replication }, ['error', 'message', 'details']),
      },
    },
  }, async (_req, reply) => {
    if (ctx.opts.readiness) {
      const r = await ctx.opts.readiness();
      if (r.problems.length) return reply.code(503).send({ error: 'unavailable', message: 'not ready', details: r.problems, replication: r.replication });
      return { status: 'ready', replication: r.replication };
    }
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
