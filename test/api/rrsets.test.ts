// RRsets: read, replace, delete, batches; validation per type, the zone-wide rules, If-Match, and
// that nothing is ever half-applied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, errorOf, makeZone } from './helpers.js';

const api = await startApi();
const tok = await api.tenant('rr');
await makeZone(api, 'z', tok);
await makeZone(api, 'del', tok);
assert.equal((await api.call('POST', '/v1/domains', { token: tok, body: { name: 'registry.example', zone: 'del', delegation_only: true } })).status, 201);

const Z = '/v1/zones/z/rrsets';
const rows = async (zone: string) => (await api.db.pool.query(
  'SELECT owner, type, ttl, rdata FROM records r JOIN zones z ON z.id = r.zone_id WHERE z.name = $1 ORDER BY owner, type, rdata', [zone])).rows;
const version = async (zone: string) => (await api.db.pool.query('SELECT version FROM zones WHERE name = $1', [zone])).rows[0].version as number;

test('PUT creates an RRset, GET reads it with the zone version as ETag, PUT again replaces it', async () => {
  const v0 = await version('z');
  const p = await api.call('PUT', `${Z}/www/A`, { token: tok, body: { ttl: 300, records: ['192.0.2.2', '192.0.2.1', '192.0.2.1'] } });
  assert.equal(p.status, 200);
  assert.deepEqual(p.body, { owner: 'www', type: 'A', ttl: 300, records: ['192.0.2.1', '192.0.2.2'] }, 'duplicates dropped');
  const v1 = await version('z');
  assert.ok(v1 > v0);
  assert.equal(p.headers.etag, `"${v1}"`);
  const g = await api.call('GET', `${Z}/WWW/a`, { token: tok });
  assert.equal(g.status, 200);
  assert.deepEqual(g.body, p.body, 'owner and type are case-insensitive');
  assert.equal(g.headers.etag, `"${v1}"`);
  await api.call('PUT', `${Z}/www/A`, { token: tok, body: { ttl: 60, records: ['198.51.100.7'] } });
  assert.deepEqual((await rows('z')).filter((r) => r.owner === 'www'), [{ owner: 'www', type: 1, ttl: 60, rdata: '198.51.100.7' }]);
  assert.ok(await version('z') > v1, 'every change moves the version on');
});

test('GET with ?owner= and ?type= filters; an absent RRset is 404', async () => {
  await api.call('PUT', `${Z}/www/TXT`, { token: tok, body: { ttl: 300, records: ['"hello world"'] } });
  const all = await api.call('GET', `${Z}?owner=www`, { token: tok });
  const sets = (all.body as { rrsets: { type: string }[] }).rrsets;
  assert.deepEqual(sets.map((s) => s.type), ['A', 'TXT']);
  const ns = await api.call('GET', `${Z}?type=NS`, { token: tok });
  assert.deepEqual((ns.body as { rrsets: { owner: string }[] }).rrsets.map((s) => s.owner), ['@']);
  assert.equal((await api.call('GET', `${Z}/nothing/A`, { token: tok })).status, 404);
  assert.equal((await api.call('GET', '/v1/zones/missing/rrsets', { token: tok })).status, 404);
  assert.equal((await api.call('GET', `${Z}/www/BOGUS`, { token: tok })).status, 422);
});

test('per-type validation: a 422 names the record; nothing changes', async () => {
  const before = await rows('z');
  const cases: [string, unknown, string][] = [
    ['www/A', { ttl: 60, records: ['192.0.2.1', 'not-an-address'] }, 'records[1]'],
    ['www/AAAA', { ttl: 60, records: ['192.0.2.1'] }, 'records[0]'],
    ['mail/MX', { ttl: 60, records: ['mail.example.'] }, 'records[0]'],
    ['www/BOGUS', { ttl: 60, records: ['x'] }, 'type'],
    ['www/ANY', { ttl: 60, records: ['x'] }, 'type'],
    ['bad..name/A', { ttl: 60, records: ['192.0.2.1'] }, 'owner'],
  ];
  for (const [path, body, where] of cases) {
    const r = await api.call('PUT', `${Z}/${path}`, { token: tok, body });
    assert.equal(r.status, 422, path);
    assert.equal(errorOf(r).error, 'invalid_data');
    assert.ok(errorOf(r).details.some((d) => d.path === where), `${path}: ${JSON.stringify(errorOf(r).details)}`);
  }
  assert.equal((await api.call('PUT', `${Z}/www/A`, { token: tok, body: { ttl: -1, records: ['192.0.2.1'] } })).status, 400);
  assert.equal((await api.call('PUT', `${Z}/www/A`, { token: tok, body: { ttl: '60', records: ['192.0.2.1'] } })).status, 400);
  assert.equal((await api.call('PUT', `${Z}/www/A`, { token: tok, body: { ttl: 60, records: [] } })).status, 400);
  assert.equal((await api.call('PUT', `${Z}/www/A`, { token: tok, body: { ttl: 60, records: ['192.0.2.1'], extra: 1 } })).status, 400);
  assert.deepEqual(await rows('z'), before);
});

test('a CNAME cannot sit beside other data, and the apex keeps its SOA and NS', async () => {
  const v = await version('z');
  const c = await api.call('PUT', `${Z}/www/CNAME`, { token: tok, body: { ttl: 60, records: ['elsewhere.example.'] } });
  assert.equal(c.status, 422);
  assert.ok(errorOf(c).details.some((d) => d.path === 'www/CNAME'));
  assert.equal((await api.call('DELETE', `${Z}/@/SOA`, { token: tok })).status, 422);
  assert.equal((await api.call('DELETE', `${Z}/@/NS`, { token: tok })).status, 422);
  assert.equal((await api.call('PUT', `${Z}/sub/SOA`, { token: tok, body: { ttl: 60, records: ['a b 1 2 3 4 5'] } })).status, 422);
  assert.equal(await version('z'), v);
  // The CNAME may replace the other data in one batch.
  const b = await api.call('PATCH', Z, { token: tok, body: { changes: [
    { owner: 'alias', type: 'A', ttl: 60, records: ['192.0.2.9'] },
    { owner: 'alias', type: 'A', delete: true },
    { owner: 'alias', type: 'CNAME', ttl: 60, records: ['www'] },
  ] } });
  assert.equal(b.status, 200);
  assert.deepEqual((b.body as { rrsets: unknown[] }).rrsets, [{ owner: 'alias', type: 'CNAME', ttl: 60, records: ['www'] }]);
});

test('DELETE removes one RRset (204), then 404', async () => {
  await api.call('PUT', `${Z}/gone/A`, { token: tok, body: { ttl: 60, records: ['192.0.2.3'] } });
  assert.equal((await api.call('DELETE', `${Z}/gone/A`, { token: tok })).status, 204);
  assert.ok(!(await rows('z')).some((r) => r.owner === 'gone'));
  assert.equal((await api.call('DELETE', `${Z}/gone/A`, { token: tok })).status, 404);
});

test('a PATCH batch with one bad record changes nothing: rows and version stay', async () => {
  const before = await rows('z');
  const v = await version('z');
  const r = await api.call('PATCH', Z, { token: tok, body: { changes: [
    { owner: 'new1', type: 'A', ttl: 60, records: ['192.0.2.10'] },
    { owner: 'www', type: 'A', delete: true },
    { owner: 'new2', type: 'AAAA', ttl: 60, records: ['not::an::address::'] },
  ] } });
  assert.equal(r.status, 422);
  assert.deepEqual(errorOf(r).details.map((d) => d.path), ['changes[2].records[0]']);
  // Valid records, but the result breaks a zone rule: also nothing.
  const r2 = await api.call('PATCH', Z, { token: tok, body: { changes: [
    { owner: 'new1', type: 'A', ttl: 60, records: ['192.0.2.10'] },
    { owner: '@', type: 'NS', delete: true },
  ] } });
  assert.equal(r2.status, 422);
  assert.deepEqual(await rows('z'), before);
  assert.equal(await version('z'), v);
  assert.equal((await api.call('PATCH', Z, { token: tok, body: { changes: [{ owner: 'x', type: 'A', delete: false }] } })).status, 400);
  assert.equal((await api.call('PATCH', Z, { token: tok, body: { changes: [] } })).status, 400);
});

test('If-Match: the current version passes, a stale one is 412 and changes nothing', async () => {
  const v = await version('z');
  const stale = await api.call('PUT', `${Z}/im/A`, { token: tok, body: { ttl: 60, records: ['192.0.2.4'] }, headers: { 'if-match': `"${v - 1}"` } });
  assert.equal(stale.status, 412);
  assert.equal(errorOf(stale).details[0].problem, `current version is "${v}"`);
  assert.equal((await api.call('PATCH', Z, { token: tok, body: { changes: [{ owner: 'im', type: 'A', delete: true }] }, headers: { 'if-match': '"1"' } })).status, 412);
  assert.equal((await api.call('DELETE', `${Z}/www/A`, { token: tok, headers: { 'if-match': `"${v + 5}"` } })).status, 412);
  assert.equal(await version('z'), v);
  const ok = await api.call('PUT', `${Z}/im/A`, { token: tok, body: { ttl: 60, records: ['192.0.2.4'] }, headers: { 'if-match': `"${v}"` } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.etag, `"${await version('z')}"`);
  assert.ok(await version('z') > v);
});

test('a zone served by a delegation-only domain takes only delegations below its apex', async () => {
  const D = '/v1/zones/del/rrsets';
  const bad = await api.call('PUT', `${D}/www/TXT`, { token: tok, body: { ttl: 60, records: ['"no"'] } });
  assert.equal(bad.status, 422);
  assert.ok(errorOf(bad).details.some((d) => d.path === 'www/TXT'));
  const ok = await api.call('PATCH', D, { token: tok, body: { changes: [
    { owner: 'child', type: 'NS', ttl: 60, records: ['ns.child'] },
    { owner: 'ns.child', type: 'A', ttl: 60, records: ['192.0.2.77'] },
  ] } });
  assert.equal(ok.status, 200);
});

test('record changes are journaled with the actor of the token', async () => {
  const id = (await api.db.pool.query("SELECT k.id FROM api_tokens k JOIN tenants t ON t.id = k.tenant_id WHERE t.name = 'rr'")).rows[0].id;
  await api.call('PUT', `${Z}/journaled/A`, { token: tok, body: { ttl: 60, records: ['192.0.2.5'] } });
  const j = (await api.db.pool.query("SELECT actor, details FROM journal WHERE entity = 'records' ORDER BY seq DESC LIMIT 1")).rows[0];
  assert.equal(j.actor, `token:${id}`);
  assert.deepEqual(j.details.added, [['journaled', 1, 60, '192.0.2.5']]);
});
