// The statistics API over a real PostgreSQL: a domain's series (minute, hour, day) from the
// per-minute rows and the hourly rollups, the busiest domains per tenant (admin: all), tenant
// scoping, bad parameters as 4xx with their codes; and the rollup to hours and retention, exactly
// once (the advisory lock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, makeZone, errorOf, ADMIN, type Res } from '../api/helpers.js';
import { writeDomainCounts } from '../../src/store/query-stats.js';
import { rollupQueryStats } from '../../src/store/query-stats-rollup.js';
import { ERRORS } from '../../src/api/errors.js';

const DAY = 86400;
const api = await startApi({ stats: { minuteKeepS: 2 * DAY } });
const acme = await api.tenant('acme');
const other = await api.tenant('other');
await makeZone(api, 'web', acme);
await makeZone(api, 'web', other);
for (const [name, token] of [['acme.example', acme], ['shop.acme.example', acme], ['other.example', other]] as const) {
  const r = await api.call('POST', '/v1/domains', { token, body: { name, zone: 'web' } });
  assert.equal(r.status, 201, r.text);
}
const ids = new Map((await api.db.pool.query<{ name: string; id: number }>('SELECT name, id FROM domains')).rows.map((r) => [r.name, r.id]));

/** Writes counts the way the flusher does: [domain, qtype, rcode, count] in `minute`. */
async function counted(minute: Date, cells: Array<[string, string, string, number]>): Promise<void> {
  await writeDomainCounts(api.db.pool, minute, {
    domainIds: cells.map((c) => ids.get(c[0])!), qtypes: cells.map((c) => c[1]), rcodes: cells.map((c) => c[2]), counts: cells.map((c) => c[3]),
  });
}

const MIN = 60_000;
const base = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000; // the start of the last whole hour
const at = (m: number) => new Date(base + m * MIN);
await counted(at(0), [['acme.example.', 'A', 'NOERROR', 10], ['acme.example.', 'AAAA', 'NXDOMAIN', 2], ['other.example.', 'A', 'NOERROR', 50]]);
await counted(at(0), [['acme.example.', 'A', 'NOERROR', 5]]); // a second worker's batch for the same minute adds up
await counted(at(2), [['acme.example.', 'MX', 'NOERROR', 3], ['shop.acme.example.', 'A', 'NOERROR', 7]]);
await counted(at(61), [['acme.example.', 'A', 'NOERROR', 1]]); // the current hour

const get = (path: string, token: string = acme) => api.call('GET', path, { token });
function is(r: Res, code: keyof typeof ERRORS): void {
  assert.equal(errorOf(r)?.error, code, r.text);
  assert.equal(r.status, ERRORS[code].status, r.text);
}
type Series = { domain: string; step: string; total: { queries: number; qtypes: Record<string, number>; rcodes: Record<string, number> };
  points: Array<{ at: string; queries: number; qtypes: Record<string, number>; rcodes: Record<string, number> }> };

test('a domain\'s series per minute is dense, with counts by type and rcode that add up across batches', async () => {
  const r = await get(`/v1/domains/acme.example/stats?from=${at(0).toISOString()}&to=${at(5).toISOString()}&step=minute`);
  assert.equal(r.status, 200, r.text);
  const s = r.body as Series;
  assert.equal(s.domain, 'acme.example.');
  assert.deepEqual(s.points.map((p) => p.queries), [17, 0, 3, 0, 0]);
  assert.deepEqual(s.points[0], { at: at(0).toISOString(), queries: 17, qtypes: { A: 15, AAAA: 2 }, rcodes: { NOERROR: 15, NXDOMAIN: 2 } });
  assert.deepEqual(s.total, { queries: 20, qtypes: { A: 15, AAAA: 2, MX: 3 }, rcodes: { NOERROR: 18, NXDOMAIN: 2 } });
  // Unix seconds work as well; from is rounded down to the step.
  const u = await get(`/v1/domains/acme.example./stats?from=${base / 1000 + 30}&to=${base / 1000 + 120}`);
  assert.deepEqual((u.body as Series).points.map((p) => [p.at, p.queries]), [[at(0).toISOString(), 17], [at(1).toISOString(), 0]]);
});

test('step=hour and step=day sum the minutes and the hourly rollups; a rollup changes no total', async () => {
  const q = `/v1/domains/acme.example/stats?from=${at(0).toISOString()}&to=${at(120).toISOString()}&step=hour`;
  const before = (await get(q)).body as Series;
  assert.deepEqual(before.points.map((p) => p.queries), [20, 1]);
  const day = (await get(`/v1/domains/acme.example/stats?from=${at(0).toISOString()}&to=${at(120).toISOString()}&step=day`)).body as Series;
  assert.equal(day.total.queries, 21);
  // Roll everything older than the current hour up (a clock two days ahead, less a little).
  const rolled = await rollupQueryStats(api.db.pool, { minuteKeepS: 2 * DAY, hourKeepS: 400 * DAY }, new Date(base + 3_600_000 + 2 * DAY * 1000 + 1000));
  assert.deepEqual(rolled, { minutes: 5, hoursDeleted: 0 });
  const hours = await api.db.pool.query<{ n: number }>(`SELECT sum(count)::int AS n FROM domain_query_hours WHERE domain_id = $1`, [ids.get('acme.example.')]);
  assert.equal(hours.rows[0].n, 20);
  const left = await api.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM domain_query_minutes');
  assert.equal(left.rows[0].n, 1, 'the current hour stays per minute');
  assert.deepEqual(((await get(q)).body as Series).points, before.points);
});

test('retention drops hourly rows past GLIDEPATH_STATS_HOUR_RETENTION, and a round another server holds is skipped', async () => {
  const old = new Date(base - 30 * DAY * 1000);
  await api.db.pool.query(`INSERT INTO domain_query_hours (domain_id, hour, qtype, rcode, count) VALUES ($1, $2, 'A', 'NOERROR', 9)`, [ids.get('acme.example.'), old]);
  // Another server's round in progress: this one does nothing.
  const c = await api.db.pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock(7406395140)');
    assert.equal(await rollupQueryStats(api.db.pool, { minuteKeepS: 2 * DAY, hourKeepS: 10 * DAY }), undefined);
    await c.query('COMMIT');
  } finally { c.release(); }
  const r = await rollupQueryStats(api.db.pool, { minuteKeepS: 2 * DAY, hourKeepS: 10 * DAY });
  assert.equal(r?.hoursDeleted, 1);
  const n = await api.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM domain_query_hours WHERE hour < $1', [new Date(base - 10 * DAY * 1000)]);
  assert.equal(n.rows[0].n, 0);
});

test('the busiest domains: of the caller\'s tenant; an admin sees every tenant, or the one it names', async () => {
  const range = `from=${at(0).toISOString()}&to=${at(120).toISOString()}`;
  type Top = { domains: Array<{ name: string; tenant: string; queries: number; nxdomain: number }> };
  const mine = (await get(`/v1/stats/top?${range}`)).body as Top;
  assert.deepEqual(mine.domains, [
    { name: 'acme.example.', tenant: 'acme', queries: 21, nxdomain: 2 },
    { name: 'shop.acme.example.', tenant: 'acme', queries: 7, nxdomain: 0 },
  ]);
  assert.deepEqual(((await get(`/v1/stats/top?${range}&limit=1`)).body as Top).domains.map((d) => d.name), ['acme.example.']);
  assert.deepEqual(((await get(`/v1/stats/top?${range}`, other)).body as Top).domains.map((d) => d.name), ['other.example.']);
  assert.deepEqual(((await get(`/v1/stats/top?${range}`, ADMIN)).body as Top).domains.map((d) => d.name), ['other.example.', 'acme.example.', 'shop.acme.example.']);
  assert.deepEqual(((await get(`/v1/stats/top?${range}&tenant=acme`, ADMIN)).body as Top).domains.map((d) => d.name), ['acme.example.', 'shop.acme.example.']);
  // A tenant naming another tenant, or asking for another tenant's domain: 404, as if missing.
  is(await get(`/v1/stats/top?${range}&tenant=acme`, other), 'not_found');
  is(await get(`/v1/domains/acme.example/stats?${range}&step=hour`, other), 'not_found');
  assert.equal((await get(`/v1/domains/acme.example/stats?${range}&step=hour&tenant=acme`, ADMIN)).status, 200);
  is(await get('/v1/stats/top', 'no-such-token'), 'unauthorized');
});

test('bad parameters are 4xx with their codes', async () => {
  is(await get('/v1/domains/acme.example/stats?from=yesterday'), 'invalid_time_range');
  is(await get('/v1/domains/acme.example/stats?to=2026-13-45'), 'invalid_time_range');
  const e = await get(`/v1/domains/acme.example/stats?from=${at(5).toISOString()}&to=${at(5).toISOString()}`);
  is(e, 'invalid_time_range');
  assert.equal(errorOf(e).details[0].path, 'from');
  is(await get(`/v1/stats/top?from=${at(5).toISOString()}&to=${at(0).toISOString()}`), 'invalid_time_range');
  is(await get(`/v1/domains/acme.example/stats?from=${at(0).toISOString()}&to=${new Date(base + 2 * DAY * 1000).toISOString()}&step=minute`), 'too_many_points');
  const oldFrom = new Date(Date.now() - 3 * DAY * 1000);
  is(await get(`/v1/domains/acme.example/stats?from=${oldFrom.toISOString()}&to=${new Date(oldFrom.getTime() + 3_600_000).toISOString()}&step=minute`), 'step_unavailable');
  assert.equal((await get(`/v1/domains/acme.example/stats?from=${oldFrom.toISOString()}&to=${new Date(oldFrom.getTime() + 3_600_000).toISOString()}&step=hour`)).status, 200);
  is(await get('/v1/domains/acme.example/stats?step=week'), 'bad_request');
  is(await get('/v1/stats/top?limit=ten'), 'bad_request');
  is(await get('/v1/domains/nope.example/stats'), 'not_found');
});
