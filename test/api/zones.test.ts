// Zones: create, list with pages, get with ETag, rename, delete (409 while in use), and the
// request-level errors (400, 404, 409, 412, 413, 415).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, errorOf, makeZone, apexSets } from './helpers.js';

const api = await startApi();
const tok = await api.tenant('zt');

interface ZoneOut { name: string; version: number; records: number; domains: string[] }

test('create, get with ETag, list in pages', async () => {
  const c = await api.call('POST', '/v1/zones', { token: tok, body: { name: 'alpha', rrsets: apexSets() } });
  assert.equal(c.status, 201);
  const z = c.body as ZoneOut;
  assert.equal(z.name, 'alpha');
  assert.equal(z.records, 4);
  const g = await api.call('GET', '/v1/zones/alpha', { token: tok });
  assert.equal(g.status, 200);
  assert.equal(g.headers.etag, `"${(g.body as ZoneOut).version}"`);
  for (const n of ['beta', 'gamma', 'delta']) assert.equal((await api.call('POST', '/v1/zones', { token: tok, body: { name: n } })).status, 201);
  const p1 = await api.call('GET', '/v1/zones?limit=2', { token: tok });
  const b1 = p1.body as { zones: ZoneOut[]; next: string | null };
  assert.deepEqual(b1.zones.map((x) => x.name), ['alpha', 'beta']);
  assert.equal(b1.next, 'beta');
  const p2 = await api.call('GET', `/v1/zones?limit=2&after=${b1.next}`, { token: tok });
  const b2 = p2.body as { zones: ZoneOut[]; next: string | null };
  assert.deepEqual(b2.zones.map((x) => x.name), ['delta', 'gamma']);
  const p3 = await api.call('GET', `/v1/zones?limit=2&after=gamma`, { token: tok });
  assert.deepEqual(p3.body, { zones: [], next: null });
  assert.equal((await api.call('GET', '/v1/zones?limit=ten', { token: tok })).status, 400);
  assert.equal((await api.call('GET', '/v1/zones?colour=red', { token: tok })).status, 400);
});

test('a zone created with RRsets must have its apex; bad data is a 422 naming the record', async () => {
  const noApex = await api.call('POST', '/v1/zones', { token: tok, body: { name: 'bad1', rrsets: [{ owner: 'www', type: 'A', ttl: 60, records: ['192.0.2.1'] }] } });
  assert.equal(noApex.status, 422);
  assert.ok(errorOf(noApex).details.some((d) => d.path === '@/SOA'));
  const badA = await api.call('POST', '/v1/zones', { token: tok, body: { name: 'bad2', rrsets: [...apexSets(), { owner: 'www', type: 'A', ttl: 60, records: ['192.0.2.1', '300.1.1.1'] }] } });
  assert.equal(badA.status, 422);
  assert.equal(errorOf(badA).error, 'invalid_data');
  assert.deepEqual(errorOf(badA).details.map((d) => d.path), ['rrsets[3].records[1]']);
  assert.equal((await api.call('GET', '/v1/zones/bad2', { token: tok })).status, 404, 'nothing was created');
});

test('duplicate names are 409; names outside the pattern are 400', async () => {
  const d = await api.call('POST', '/v1/zones', { token: tok, body: { name: 'alpha' } });
  assert.equal(d.status, 409);
  assert.equal(errorOf(d).error, 'zone_exists');
  assert.equal((await api.call('POST', '/v1/zones', { token: tok, body: { name: '-x' } })).status, 400);
  assert.equal((await api.call('POST', '/v1/zones', { token: tok, body: { name: 5 } })).status, 400);
  assert.equal((await api.call('POST', '/v1/zones', { token: tok, body: {} })).status, 400);
});

test('malformed JSON is 400, a wrong content type 415, an oversized body 413', async () => {
  const bad = await api.call('POST', '/v1/zones', { token: tok, raw: '{"name": ', type: 'application/json' });
  assert.equal(bad.status, 400);
  assert.equal(errorOf(bad).error, 'bad_request');
  const txt = await api.call('POST', '/v1/zones', { token: tok, raw: 'name=x', type: 'text/plain' });
  assert.equal(txt.status, 415);
  assert.equal(errorOf(txt).error, 'unsupported_media_type');
  const dns = await api.call('POST', '/v1/zones', { token: tok, raw: '$ORIGIN x.', type: 'text/dns' });
  assert.equal(dns.status, 415);
  const big = await api.call('POST', '/v1/zones', { token: tok, body: { name: 'big', pad: 'x'.repeat(1024 * 1024) } });
  assert.equal(big.status, 413);
  assert.equal(errorOf(big).error, 'payload_too_large');
});

test('rename keeps records and domains; 409 onto an existing name; If-Match 412', async () => {
  await makeZone(api, 'old', tok);
  assert.equal((await api.call('POST', '/v1/domains', { token: tok, body: { name: 'renamed.example', zone: 'old' } })).status, 201);
  const v = (await api.call('GET', '/v1/zones/old', { token: tok })).headers.etag as string;
  const stale = await api.call('PATCH', '/v1/zones/old', { token: tok, body: { name: 'new' }, headers: { 'if-match': '"999"' } });
  assert.equal(stale.status, 412);
  assert.equal(errorOf(stale).error, 'precondition_failed');
  const r = await api.call('PATCH', '/v1/zones/old', { token: tok, body: { name: 'new' }, headers: { 'if-match': v } });
  assert.equal(r.status, 200);
  assert.deepEqual((r.body as ZoneOut).domains, ['renamed.example.']);
  assert.equal((r.body as ZoneOut).records, 4);
  assert.equal((await api.call('GET', '/v1/zones/old', { token: tok })).status, 404);
  assert.equal((await api.call('GET', '/v1/domains/renamed.example', { token: tok }).then((x) => (x.body as { zone: string }).zone)), 'new');
  assert.equal((await api.call('PATCH', '/v1/zones/new', { token: tok, body: { name: 'alpha' } })).status, 409);
  assert.equal((await api.call('PATCH', '/v1/zones/new', { token: tok, body: { name: 'x', version: 1 } })).status, 400);
});

test('delete: 409 while a domain points at the zone or a PZC targets it, then 204 and records gone', async () => {
  await makeZone(api, 'used', tok);
  await makeZone(api, 'target', tok);
  assert.equal((await api.call('POST', '/v1/domains', { token: tok, body: { name: 'used.example', zone: 'used' } })).status, 201);
  const inUse = await api.call('DELETE', '/v1/zones/used', { token: tok });
  assert.equal(inUse.status, 409);
  assert.deepEqual(errorOf(inUse).details.map((d) => d.path), ['used.example.']);
  // A pending PZC (set by SQL: its API belongs to another issue) protects its target as well.
  await api.db.pool.query(`UPDATE domains SET pzc_zone_id = (SELECT id FROM zones WHERE name = 'target'),
    pzc_at = date_trunc('second', now() + interval '1 day') WHERE name = 'used.example.'`);
  assert.equal((await api.call('DELETE', '/v1/zones/target', { token: tok })).status, 409);
  assert.equal((await api.call('DELETE', '/v1/domains/used.example', { token: tok })).status, 204);
  const id = (await api.db.pool.query("SELECT id FROM zones WHERE name = 'used'")).rows[0].id as number;
  assert.equal((await api.call('DELETE', '/v1/zones/used', { token: tok })).status, 204);
  assert.equal((await api.db.pool.query('SELECT count(*)::int AS n FROM records WHERE zone_id = $1', [id])).rows[0].n, 0);
  assert.equal((await api.call('DELETE', '/v1/zones/used', { token: tok })).status, 404);
});

test('the admin acts on the "default" tenant unless ?tenant= says otherwise', async () => {
  assert.equal((await api.call('POST', '/v1/zones', { body: { name: 'admins' } })).status, 201);
  const t = (await api.db.pool.query("SELECT t.name FROM zones z JOIN tenants t ON t.id = z.tenant_id WHERE z.name = 'admins'")).rows[0].name;
  assert.equal(t, 'default');
  const listed = await api.call('GET', '/v1/zones?tenant=zt');
  assert.ok((listed.body as { zones: ZoneOut[] }).zones.some((z) => z.name === 'alpha'));
  assert.equal((await api.call('GET', '/v1/zones/alpha')).status, 404, 'not in "default"');
  assert.equal((await api.call('GET', '/v1/zones/alpha?tenant=zt')).status, 200);
  assert.equal((await api.call('GET', '/v1/zones?tenant=nosuch')).status, 404);
});
