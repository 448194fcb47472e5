// Per-domain query statistics (issue 20): a domain's time series, and the busiest domains of a
// tenant (admin: of every tenant). The counts come from the per-minute and hourly rollups that the
// answering processes write in batches (store/query-stats.ts), so they trail the answers by up to
// GLIDEPATH_STATS_FLUSH_INTERVAL.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { caller, tenantFor } from '../auth.js';
import { findDomain } from '../domain-lookup.js';
import { ApiError } from '../errors.js';
import { domainSeries, topDomains, STEP_SECONDS, type Step } from '../../store/query-stats.js';
import { obj, str, dateTime, responses, tenantQuery, UINT } from '../schemas.js';

type RangeQuery = { tenant?: string; from?: string; to?: string };
/** Points a series may hold: a day of minutes fits, as do 83 days of hours. */
const MAX_POINTS = 2000;
const DEFAULT_SPAN: Record<Step, number> = { minute: 3600, hour: 86400, day: 30 * 86400 };

const rangeQuery = {
  ...tenantQuery,
  from: str({ maxLength: 64, description: 'Start (included): RFC 3339 date-time or Unix seconds. Default: `to` less an hour (step=minute), a day (hour) or 30 days (day).' }),
  to: str({ maxLength: 64, description: 'End (excluded): RFC 3339 date-time or Unix seconds. Default: now.' }),
};
const counts = { type: 'object', additionalProperties: { type: 'integer' } } as const;
const pointSchema = obj({
  at: dateTime, queries: { type: 'integer' },
  qtypes: { ...counts, description: 'Answers by query type: a mnemonic (A, AAAA, MX, ...) or "other".' },
  rcodes: { ...counts, description: 'Answers by response code: NOERROR, NXDOMAIN, SERVFAIL, REFUSED, FORMERR, NOTIMP or "other".' },
}, ['at', 'queries', 'qtypes', 'rcodes']);

/** RFC 3339 or Unix seconds; `field` names the parameter in the 400. */
function instant(text: string | undefined, def: number, field: string): number {
  if (text === undefined) return def;
  const ms = /^\d{1,12}$/.test(text) ? Number(text) * 1000
    : /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/i.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms)) throw new ApiError('invalid_time_range', `${field}: "${text}" is not an RFC 3339 date-time (2026-12-01T14:00:00Z) or Unix seconds`, [{ path: field, problem: 'not a date-time' }]);
  return ms;
}

/** [from, to) in ms, from not after to. */
function range(q: RangeQuery, defaultSpanS: number): { from: number; to: number } {
  const to = instant(q.to, Date.now(), 'to');
  const from = instant(q.from, to - defaultSpanS * 1000, 'from');
  if (from >= to) throw new ApiError('invalid_time_range', `from (${new Date(from).toISOString()}) must be before to (${new Date(to).toISOString()})`, [{ path: 'from', problem: 'not before to' }]);
  return { from, to };
}

export async function statsRoutes(app: FastifyInstance, { ctx }: { ctx: RouteContext }): Promise<void> {
  app.get<{ Params: { name: string }; Querystring: RangeQuery & { step?: Step } }>('/v1/domains/:name/stats', {
    schema: {
      tags: ['statistics'], summary: 'Queries answered for a domain over time, by type and response code',
      description: 'A dense series: one point per step from `from` (rounded down to the step, UTC) up to `to`, zeros included, at most 2,000 points. step=minute reads the per-minute counts (kept GLIDEPATH_STATS_MINUTE_RETENTION); hour and day also read the hourly rollups. Counts trail the answers by up to GLIDEPATH_STATS_FLUSH_INTERVAL.',
      params: obj({ name: str({ maxLength: 1024 }) }, ['name']),
      querystring: obj({ ...rangeQuery, step: { type: 'string', enum: ['minute', 'hour', 'day'], description: 'Default minute.' } }),
      response: responses({ 200: obj({
        domain: str(), from: dateTime, to: dateTime, step: str(), step_seconds: { type: 'integer' },
        total: obj({ queries: { type: 'integer' }, qtypes: counts, rcodes: counts }, ['queries', 'qtypes', 'rcodes']),
        points: { type: 'array', items: pointSchema },
      }, ['domain', 'from', 'to', 'step', 'step_seconds', 'total', 'points']) }, 404, 422),
    },
  }, async (req) => {
    const step = req.query.step ?? 'minute';
    const stepS = STEP_SECONDS[step];
    const r = range(req.query, DEFAULT_SPAN[step]);
    const from = Math.floor(r.from / 1000 / stepS) * stepS;
    const to = r.to / 1000;
    const n = Math.ceil((to - from) / stepS);
    if (n > MAX_POINTS) throw new ApiError('too_many_points', `${n} steps of ${step} from ${new Date(from * 1000).toISOString()} to ${new Date(r.to).toISOString()}: at most ${MAX_POINTS}`, [{ path: 'step', problem: `${n} points` }]);
    const keepS = ctx.opts.stats?.minuteKeepS;
    if (step === 'minute' && keepS !== undefined && from < Date.now() / 1000 - keepS) {
      throw new ApiError('step_unavailable', `per-minute counts are kept ${keepS} s (GLIDEPATH_STATS_MINUTE_RETENTION); from ${new Date(from * 1000).toISOString()} is older: use step=hour`, [{ path: 'from', problem: 'older than the minute retention' }]);
    }
    const d = await findDomain(ctx.pool, await tenantFor(req, ctx.pool, false), req.params.name);
    const cells = await domainSeries(ctx.pool, d.id, new Date(from * 1000), new Date(r.to), step);
    const points = Array.from({ length: n }, (_, i) => ({ at: new Date((from + i * stepS) * 1000).toISOString(), queries: 0, qtypes: {} as Record<string, number>, rcodes: {} as Record<string, number> }));
    const total = { queries: 0, qtypes: {} as Record<string, number>, rcodes: {} as Record<string, number> };
    for (const c of cells) {
      const p = points[Math.floor((c.at - from) / stepS)];
      for (const t of p ? [p, total] : [total]) {
        t.queries += c.count;
        t.qtypes[c.qtype] = (t.qtypes[c.qtype] ?? 0) + c.count;
        t.rcodes[c.rcode] = (t.rcodes[c.rcode] ?? 0) + c.count;
      }
    }
    return { domain: d.name, from: new Date(from * 1000).toISOString(), to: new Date(r.to).toISOString(), step, step_seconds: stepS, total, points };
  });

  app.get<{ Querystring: RangeQuery & { limit?: string } }>('/v1/stats/top', {
    schema: {
      tags: ['statistics'], summary: 'The busiest domains of the tenant (admin without ?tenant: of every tenant)',
      description: 'Domains by queries answered in [from, to), most first. Hourly rollups count when their hour starts in the range.',
      querystring: obj({ ...rangeQuery, limit: str({ pattern: UINT, description: 'How many domains, 1-1000 (default 10).' }) }),
      response: responses({ 200: obj({
        from: dateTime, to: dateTime,
        domains: { type: 'array', items: obj({ name: str(), tenant: str(), queries: { type: 'integer' }, nxdomain: { type: 'integer' } }, ['name', 'tenant', 'queries', 'nxdomain']) },
      }, ['from', 'to', 'domains']) }, 404),
    },
  }, async (req) => {
    const r = range(req.query, 3600);
    // An admin sees every tenant unless it names one; a tenant only its own (tenantFor: 404 for another).
    const all = caller(req).admin && req.query.tenant === undefined;
    const tenantId = all ? null : await tenantFor(req, ctx.pool, false);
    const domains = !all && tenantId === null ? [] : await topDomains(ctx.pool, tenantId, new Date(r.from), new Date(r.to), Math.min(Math.max(Number(req.query.limit ?? 10), 1), 1000));
    return { from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString(), domains };
  });
}
