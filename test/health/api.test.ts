// The health-check API (issue 20): tenant scoping, check-scoped tokens, and bad input answered
// with a 4xx naming the field while nothing changes; gates written with a new zone, and a gate of
// an included zone as the load reads it. fastify inject on a real PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, makeZone, errorOf, apexSets, type Res } from '../api/helpers.js';
import { loadAll } from '../../src/store/load.js';
import { SnapshotBuilder } from '../../src/snapshot/build.js';
import { resolve } from '../../src/answer/resolve.js';
import { formatRdata } from '../../src/dns/rdata.js';
import { TYPE } from '../../src/dns/constants.js';

const api = await startApi();
const acme = await api.tenant('acme');
const other = await api.tenant('other');
await makeZone(api, 'web', acme);
await makeZone(api, 'theirs', other);

const is = (r: Res, status: number, code: string) => {
  assert.equal(r.status, status, r.text);
  assert.equal(errorOf(r).error, code, r.text);
};
const count = async (table: string) => (await api.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;

test('create, read, list, change and delete a check; its defaults and state', async () => {
  const c = await api.call('POST', '/v1/health-checks', { token: acme, body: { name: 'site', kind: 'https', target: 'https://192.0.2.80/health' } });
  assert.equal(c.status, 201, c.text);
  assert.deepEqual({ ...(c.body as object), state_since: 0, created_at: 0, last_heartbeat_at: 0 }, {
    name: 'site', kind: 'https', target: 'https://192.0.2.80/health', expected_status: 200, interval: 10, timeout_ms: 2000,
    up_threshold: 2, down_threshold: 3, max_age: null, state: 'up', state_since: 0, last_result: null, last_checked_at: null,
    last_heartbeat_at: 0, created_at: 0,
  });
  const p = await api.call('PATCH', '/v1/health-checks/site', { token: acme, body: { interval: 30, expected_status: 204 } });
  assert.equal(p.status, 200, p.text);
  assert.equal((p.body as { interval: number }).interval, 30);
  assert.equal((p.body as { target: string }).target, 'https://192.0.2.80/health', 'a field not given stays');
  const one = await api.call('GET', '/v1/health-checks/site', { token: acme });
  assert.deepEqual((one.body as { history: unknown[] }).history, []);
  const list = await api.call('GET', '/v1/health-checks', { token: acme });
  assert.deepEqual((list.body as { health_checks: Array<{ name: string }> }).health_checks.map((h) => h.name), ['site']);
  assert.equal((await api.call('DELETE', '/v1/health-checks/site', { token: acme })).status, 204);
  is(await api.call('GET', '/v1/health-checks/site', { token: acme }), 404, 'not_found');
});

test('tenant scoping: another tenant neither sees, changes, uses nor beats a check', async () => {
  assert.equal((await api.call('POST', '/v1/health-checks', { token: acme, body: { name: 'hb', kind: 'passive', max_age: 60 } })).status, 201);
  is(await api.call('GET', '/v1/health-checks/hb', { token: other }), 404, 'not_found');
  is(await api.call('PATCH', '/v1/health-checks/hb', { token: other, body: { max_age: 5 } }), 404, 'not_found');
  is(await api.call('DELETE', '/v1/health-checks/hb', { token: other }), 404, 'not_found');
  is(await api.call('POST', '/v1/heartbeats/hb', { token: other }), 404, 'not_found');
  is(await api.call('POST', '/v1/health-checks/hb/tokens', { token: other, body: {} }), 404, 'not_found');
  assert.deepEqual((await api.call('GET', '/v1/health-checks', { token: other }).then((r) => r.body as { health_checks: unknown[] })).health_checks, []);
  // Naming acme's check on other's records: the check does not exist for them.
  const r = await api.call('PUT', '/v1/zones/theirs/rrsets/www/A', { token: other, body: { ttl: 30, records: ['192.0.2.9'], health_checks: { '192.0.2.9': 'hb' } } });
  is(r, 422, 'unknown_health_check');
  assert.equal(errorOf(r).details[0].path, 'health_checks.192.0.2.9');
  is(await api.call('GET', '/v1/zones/theirs/rrsets/www/A', { token: other }), 404, 'not_found');
  // The admin acts on acme's with ?tenant=.
  assert.equal((await api.call('GET', '/v1/health-checks/hb?tenant=acme')).status, 200);
  // The database refuses a record naming another tenant's check, whatever writes it.
  await assert.rejects(api.db.pool.query(
    `INSERT INTO records (zone_id, owner, type, ttl, rdata, health_check_id)
     SELECT z.id, 'x', 1, 30, '192.0.2.1', h.id FROM zones z, health_checks h WHERE z.name = 'theirs' AND h.name = 'hb'`), /another tenant/);
});

test('a check-scoped token: its heartbeats only', async () => {
  assert.equal((await api.call('POST', '/v1/health-checks', { token: acme, body: { name: 'hb2', kind: 'passive', max_age: 60 } })).status, 201);
  const t = await api.call('POST', '/v1/health-checks/hb/tokens', { token: acme, body: {} });
  assert.equal(t.status, 201, t.text);
  const token = (t.body as { token: string }).token;
  assert.equal((await api.call('POST', '/v1/heartbeats/hb', { token })).status, 200);
  is(await api.call('POST', '/v1/heartbeats/hb2', { token }), 403, 'token_scope');
  for (const [m, u] of [['GET', '/v1/zones'], ['GET', '/v1/health-checks/hb'], ['POST', '/v1/health-checks/hb/tokens'], ['GET', '/v1/tenants']]) {
    is(await api.call(m, u, { token, body: m === 'POST' ? {} : undefined }), 403, 'token_scope');
  }
  // Deleting the check revokes its tokens.
  assert.equal((await api.call('DELETE', '/v1/health-checks/hb2', { token: acme })).status, 204);
});

test('bad input is a 4xx naming the field, and changes nothing', async () => {
  const checks = await count('health_checks');
  const bad: Array<[unknown, number, string, string?]> = [
    [{ name: 'p', kind: 'passive' }, 422, 'invalid_data', 'max_age'],
    [{ name: 'p', kind: 'passive', max_age: 10, target: '192.0.2.1:80' }, 422, 'invalid_data', 'target'],
    [{ name: 't', kind: 'tcp', target: '192.0.2.1' }, 422, 'invalid_data', 'target'],
    [{ name: 't', kind: 'tcp', target: '192.0.2.1:70000' }, 422, 'invalid_data', 'target'],
    [{ name: 't', kind: 'tcp', target: '192.0.2.1:80', expected_status: 200 }, 422, 'invalid_data', 'expected_status'],
    [{ name: 'h', kind: 'http', target: 'https://192.0.2.1/' }, 422, 'invalid_data', 'target'],
    [{ name: 'h', kind: 'http', target: 'http://u:p@192.0.2.1/' }, 422, 'invalid_data', 'target'],
    [{ name: 'h', kind: 'http', target: 'http://192.0.2.1/', interval: 1, timeout_ms: 5000 }, 422, 'invalid_data', 'timeout_ms'],
    [{ name: 'h', kind: 'http', target: 'http://192.0.2.1/', max_age: 5 }, 422, 'invalid_data', 'max_age'],
    [{ name: 'h', kind: 'ping', target: '192.0.2.1' }, 400, 'bad_request'],
    [{ name: '-bad', kind: 'passive', max_age: 5 }, 400, 'bad_request'],
    [{ name: 'h', kind: 'http', target: 'http://192.0.2.1/', interval: 0 }, 400, 'bad_request'],
    [{ name: 'hb', kind: 'passive', max_age: 5 }, 409, 'health_check_exists'],
  ];
  for (const [body, status, code, field] of bad) {
    const r = await api.call('POST', '/v1/health-checks', { token: acme, body });
    is(r, status, code);
    if (field) assert.equal(errorOf(r).details[0].path, field, r.text);
  }
  is(await api.call('PATCH', '/v1/health-checks/hb', { token: acme, body: { kind: 'tcp' } }), 422, 'invalid_data');
  assert.equal(await count('health_checks'), checks);
  assert.equal((await api.call('GET', '/v1/health-checks/hb', { token: acme }).then((r) => r.body as { kind: string })).kind, 'passive');

  // Heartbeats go to passive checks only.
  assert.equal((await api.call('POST', '/v1/health-checks', { token: acme, body: { name: 'tcp1', kind: 'tcp', target: '127.0.0.1:9' } })).status, 201);
  is(await api.call('POST', '/v1/heartbeats/tcp1', { token: acme }), 422, 'invalid_data');

  // RRset writes: an unknown check, a key that is no record of the set: 422, the zone unchanged.
  const version = (await api.call('GET', '/v1/zones/web/rrsets', { token: acme }).then((r) => r.body as { version: number })).version;
  is(await api.call('PUT', '/v1/zones/web/rrsets/www/A', { token: acme, body: { ttl: 30, records: ['192.0.2.1'], health_checks: { '192.0.2.1': 'nope' } } }), 422, 'unknown_health_check');
  const r = await api.call('PUT', '/v1/zones/web/rrsets/www/A', { token: acme, body: { ttl: 30, records: ['192.0.2.1'], health_checks: { '192.0.2.2': 'hb' } } });
  is(r, 422, 'invalid_data');
  assert.equal(errorOf(r).details[0].path, 'health_checks.192.0.2.2');
  is(await api.call('PATCH', '/v1/zones/web/rrsets', { token: acme, body: { changes: [
    { owner: 'a', type: 'A', ttl: 30, records: ['192.0.2.1'] },
    { owner: 'b', type: 'A', ttl: 30, records: ['192.0.2.2'], health_checks: { '192.0.2.2': 'nope' } }] } }), 422, 'unknown_health_check');
  assert.equal((await api.call('GET', '/v1/zones/web/rrsets', { token: acme }).then((x) => x.body as { version: number })).version, version);

  // A check that records name cannot be deleted (409 naming them); the record keeps it.
  const ok = await api.call('PUT', '/v1/zones/web/rrsets/www/A', { token: acme, body: { ttl: 30, records: ['192.0.2.1', '192.0.2.2'], health_checks: { '192.0.2.1': 'hb' } } });
  assert.equal(ok.status, 200, ok.text);
  const inUse = await api.call('DELETE', '/v1/health-checks/hb', { token: acme });
  is(inUse, 409, 'health_check_in_use');
  assert.equal(errorOf(inUse).details[0].path, 'web/www/A');
  assert.equal((await api.call('GET', '/v1/health-checks/hb', { token: acme })).status, 200);
  // Rewriting the RRset without health_checks removes the gate; then the check can go.
  assert.equal((await api.call('PUT', '/v1/zones/web/rrsets/www/A', { token: acme, body: { ttl: 30, records: ['192.0.2.1', '192.0.2.2'] } })).status, 200);
  const shown = await api.call('GET', '/v1/zones/web/rrsets/www/A', { token: acme });
  assert.equal((shown.body as { health_checks?: unknown }).health_checks, undefined);
  assert.equal((await api.call('DELETE', '/v1/health-checks/hb', { token: acme })).status, 204);
});

test('a tenant with health checks is in use', async () => {
  const lone = await api.tenant('lone');
  assert.equal((await api.call('POST', '/v1/health-checks', { token: lone, body: { name: 'only', kind: 'passive', max_age: 5 } })).status, 201);
  const r = await api.call('DELETE', '/v1/tenants/lone');
  is(r, 409, 'tenant_in_use');
  assert.match(errorOf(r).message, /health checks/);
  assert.equal((await api.call('DELETE', '/v1/health-checks/only', { token: lone })).status, 204);
});

test('POST /v1/zones with rrsets that name health checks: gated from the start; a check not the tenant\'s or a key not a record is a 4xx and no zone', async () => {
  assert.equal((await api.call('POST', '/v1/health-checks', { token: acme, body: { name: 'origin', kind: 'passive', max_age: 60 } })).status, 201);
  assert.equal((await api.call('POST', '/v1/health-checks', { token: other, body: { name: 'theirs-check', kind: 'passive', max_age: 60 } })).status, 201);
  const zones = await count('zones');
  const sets = (www: object) => [...apexSets(), { owner: 'www', type: 'A', ttl: 30, records: ['192.0.2.1', '192.0.2.2'], ...www }];

  // Another tenant's check is none of this tenant's: 422 naming the field, nothing created.
  const foreign = await api.call('POST', '/v1/zones', { token: acme, body: { name: 'gated', rrsets: sets({ health_checks: { '192.0.2.1': 'theirs-check' } }) } });
  is(foreign, 422, 'unknown_health_check');
  assert.equal(errorOf(foreign).details[0].path, 'rrsets[3].health_checks.192.0.2.1');
  // A key that is not one of the set's records.
  const stray = await api.call('POST', '/v1/zones', { token: acme, body: { name: 'gated', rrsets: sets({ health_checks: { '192.0.2.9': 'origin' } }) } });
  is(stray, 422, 'invalid_data');
  assert.equal(errorOf(stray).details[0].path, 'rrsets[3].health_checks.192.0.2.9');
  assert.equal(await count('zones'), zones, 'no zone was created');

  // Gates in two RRsets of the new zone, one of them a name.
  const ok = await api.call('POST', '/v1/zones', { token: acme, body: { name: 'gated', rrsets: [...sets({ health_checks: { '192.0.2.1': 'origin' } }),
    { owner: 'api', type: 'CNAME', ttl: 300, records: ['www'], health_checks: { www: 'origin' } }] } });
  assert.equal(ok.status, 201, ok.text);
  // A gated RRset whose TTL is over 60 s is warned about, as for the other RRset writes.
  assert.deepEqual((ok.body as { warnings?: Array<{ code: string }> }).warnings?.map((w) => w.code), ['gated_ttl_long']);
  const www = await api.call('GET', '/v1/zones/gated/rrsets/www/A', { token: acme });
  assert.deepEqual((www.body as { health_checks?: object }).health_checks, { '192.0.2.1': 'origin' });
  const rows = (await api.db.pool.query<{ owner: string; rdata: string; check: string | null }>(
    `SELECT r.owner, r.rdata, h.name AS "check" FROM records r JOIN zones z ON z.id = r.zone_id LEFT JOIN health_checks h ON h.id = r.health_check_id
      WHERE z.name = 'gated' AND r.owner IN ('www', 'api') ORDER BY r.owner, r.rdata`)).rows;
  assert.deepEqual(rows, [
    { owner: 'api', rdata: 'www', check: 'origin' },
    { owner: 'www', rdata: '192.0.2.1', check: 'origin' },
    { owner: 'www', rdata: '192.0.2.2', check: null },
  ]);
  // Without gated sets there is no warnings field.
  const plain = await api.call('POST', '/v1/zones', { token: acme, body: { name: 'plain-gates', rrsets: apexSets() } });
  assert.equal(plain.status, 201, plain.text);
  assert.equal((plain.body as { warnings?: unknown }).warnings, undefined);
});

test('a gated record of an included zone stays gated in the zone that includes it (store to snapshot)', async () => {
  assert.equal((await api.call('POST', '/v1/health-checks', { token: acme, body: { name: 'shared-origin', kind: 'passive', max_age: 60 } })).status, 201);
  // The included zone holds the gated RRset; the including zone only the apex.
  const lib = await api.call('POST', '/v1/zones', { token: acme, body: { name: 'lib', rrsets: [...apexSets(),
    { owner: 'cdn', type: 'A', ttl: 30, records: ['192.0.2.11', '192.0.2.12'], health_checks: { '192.0.2.11': 'shared-origin' } }] } });
  assert.equal(lib.status, 201, lib.text);
  const site = await api.call('POST', '/v1/zones', { token: acme, body: { name: 'site', rrsets: apexSets(), includes: ['lib'] } });
  assert.equal(site.status, 201, site.text);
  assert.equal((await api.call('POST', '/v1/domains', { token: acme, body: { name: 'site.example', zone: 'site' } })).status, 201);

  const cdn = async () => {
    const builder = new SnapshotBuilder();
    const all = await loadAll(api.db.pool, (b) => builder.addZones(b));
    const snap = builder.finish(all.domains, all.down);
    const a = resolve(snap, { keys: ['cdn', 'site', 'example'], labels: ['cdn', 'site', 'example'], qtype: TYPE.A }, Date.now());
    return a.answer.flatMap((e) => e.set.rrs.map((rr) => formatRdata(e.set.type, rr.parts as never))).sort();
  };
  assert.deepEqual(await cdn(), ['192.0.2.11', '192.0.2.12']);
  await api.db.pool.query("UPDATE health_checks SET state = 'down' WHERE name = 'shared-origin'");
  assert.deepEqual(await cdn(), ['192.0.2.12'], 'the down record leaves the answer where it is included');
  await api.db.pool.query("UPDATE health_checks SET state = 'up' WHERE name = 'shared-origin'");
  assert.deepEqual(await cdn(), ['192.0.2.11', '192.0.2.12']);
});
