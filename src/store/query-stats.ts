// Per-domain query statistics in PostgreSQL (migrations/014_query_stats.sql): the batch upsert every
// answering process makes (server/stats-flusher.ts), and the reads of the API (a domain's time
// series, a tenant's busiest domains). Rollup and retention are in query-stats-rollup.ts.
import type { Pool } from './db.js';

export interface CountBatch { domainIds: number[]; qtypes: string[]; rcodes: string[]; counts: number[] }

/** The batch as rows, summed per cell, of domains that still exist (one deleted since it was
 *  counted is left out: its statistics went with it). */
const batch = (p: number) => `b AS (
  SELECT u.domain_id, u.qtype, u.rcode, sum(u.n)::bigint AS n
    FROM unnest($${p}::bigint[], $${p + 1}::text[], $${p + 2}::text[], $${p + 3}::bigint[]) AS u(domain_id, qtype, rcode, n)
    JOIN domains d ON d.id = u.domain_id
   GROUP BY 1, 2, 3)`;
const PER_TENANT = `SELECT t.name AS tenant, sum(b.n)::bigint AS n
  FROM b JOIN domains d ON d.id = b.domain_id JOIN tenants t ON t.id = d.tenant_id GROUP BY t.name`;

/** Adds a batch counted in `minute` (count = count + excluded.count: every worker and node adds
 *  its own); returns the batch's totals per tenant. One statement, so it is all or nothing. */
export async function writeDomainCounts(pool: Pool, minute: Date, b: CountBatch): Promise<Array<[string, number]>> {
  const r = await pool.query<{ tenant: string; n: number }>(
    `WITH ${batch(2)}, ins AS (
       INSERT INTO domain_query_minutes AS m (domain_id, minute, qtype, rcode, count)
       SELECT domain_id, $1, qtype, rcode, n FROM b
       ON CONFLICT (domain_id, minute, qtype, rcode) DO UPDATE SET count = m.count + EXCLUDED.count)
     ${PER_TENANT}`,
    [minute, b.domainIds, b.qtypes, b.rcodes, b.counts]);
  return r.rows.map((x) => [x.tenant, x.n]);
}

/** What an edge without a writable statistics database does with a batch: reads (from its
 *  standby) which tenant each domain belongs to, for the per-tenant /metrics totals, and keeps no
 *  per-domain row. */
export async function tenantTotals(pool: Pool, b: CountBatch): Promise<Array<[string, number]>> {
  const r = await pool.query<{ tenant: string; n: number }>(`WITH ${batch(1)} ${PER_TENANT}`,
    [b.domainIds, b.qtypes, b.rcodes, b.counts]);
  return r.rows.map((x) => [x.tenant, x.n]);
}

export type Step = 'minute' | 'hour' | 'day';
export const STEP_SECONDS: Record<Step, number> = { minute: 60, hour: 3600, day: 86400 };

export interface SeriesCell { at: number; qtype: string; rcode: string; count: number }

/** A domain's counts in [from, to) summed per step (Unix seconds of the step's start, UTC), type
 *  and rcode. step=minute reads the per-minute rows only; hour and day add the hourly rollups. */
export async function domainSeries(pool: Pool, domainId: number, from: Date, to: Date, step: Step): Promise<SeriesCell[]> {
  const hours = step === 'minute' ? '' : `UNION ALL
      SELECT hour, qtype, rcode, count FROM domain_query_hours WHERE domain_id = $1 AND hour >= $2 AND hour < $3`;
  const r = await pool.query<{ at: number; qtype: string; rcode: string; count: number }>(
    `WITH r AS (
       SELECT minute AS at, qtype, rcode, count FROM domain_query_minutes WHERE domain_id = $1 AND minute >= $2 AND minute < $3
       ${hours})
     SELECT (floor(extract(epoch FROM at) / $4) * $4)::bigint AS at, qtype, rcode, sum(count)::bigint AS count
       FROM r GROUP BY 1, 2, 3 ORDER BY 1`, [domainId, from, to, STEP_SECONDS[step]]);
  return r.rows;
}

export interface TopDomain { name: string; tenant: string; queries: number; nxdomain: number }

/** The busiest domains in [from, to): of one tenant, or of all (tenantId null, admin). Hourly
 *  rollups count when their hour starts in the range. */
export async function topDomains(pool: Pool, tenantId: number | null, from: Date, to: Date, limit: number): Promise<TopDomain[]> {
  const r = await pool.query<TopDomain>(
    `WITH r AS (
       SELECT domain_id, rcode, count FROM domain_query_minutes WHERE minute >= $1 AND minute < $2
       UNION ALL
       SELECT domain_id, rcode, count FROM domain_query_hours WHERE hour >= $1 AND hour < $2),
     s AS (SELECT domain_id, sum(count)::bigint AS queries, (sum(count) FILTER (WHERE rcode = 'NXDOMAIN'))::bigint AS nxdomain
             FROM r GROUP BY domain_id)
     SELECT d.name, t.name AS tenant, s.queries, coalesce(s.nxdomain, 0)::bigint AS nxdomain
       FROM s JOIN domains d ON d.id = s.domain_id JOIN tenants t ON t.id = d.tenant_id
      WHERE $3::bigint IS NULL OR d.tenant_id = $3
      ORDER BY s.queries DESC, d.name LIMIT $4`, [from, to, tenantId, limit]);
  return r.rows;
}
