// Domains: create, list, get, point elsewhere, delegation-only, delete, and their journal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, errorOf, makeZone } from './helpers.js';

const api = await startApi();
const tok = await api.tenant('dm');
await makeZone(api, 'one', tok);
await makeZone(api, 'two', tok);

interface DomainOut { name: string; zone: string; delegation_only: boolean; serial: number; pzc: null | { zone: string; at: string } }

test('create normalises the name; get works with or without the dot and in any case', async () => {
  const c = await api.call('POST', '/v1/domains', { token: tok, body: { name: 'Shop.Example', zone: 'one' } });
  assert.equal(c.status, 201);
  const d = c.body as DomainOut;
  assert.equal(d.name, 'shop.example.');
  assert.equal(d.zone, 'one');
  assert.equal(d.delegation_only, false);
  assert.equal(d.serial, 1, 'starts at the zone SOA serial');
  assert.equal(d.pzc, null);
  for (const n of ['shop.example', 'shop.example.', 'SHOP.example.']) {
    assert.deepEqual((await api.call('GET', `/v1/domains/${n}`, { token: tok })).body, d);
  }
  const dup = await api.call('POST', '/v1/domains', { token: tok, body: { name: 'shop.example.', zone: 'two' } });
  assert.equal(dup.status, 409);
});

test('create: unknown zone 404, invalid name 422, a zone without apex 422, unknown field 400', async () => {
  assert.equal((await api.call('POST', '/v1/domains', { token: tok, body: { name: 'a.example', zone: 'nope' } })).status, 404);
  const bad = await api.call('POST', '/v1/domains', { token: tok, body: { name: 'a..example', zone: 'one' } });
  assert.equal(bad.status, 422);
  assert.equal(errorOf(bad).details[0].path, 'name');
  assert.equal((await api.call('POST', '/v1/domains', { token: tok, body: { name: `${'x'.repeat(64)}.example`, zone: 'one' } })).status, 422);
  assert.equal((await api.call('POST', '/v1/zones', { token: tok, body: { name: 'empty' } })).status, 201);
  const empty = await api.call('POST', '/v1/domains', { token: tok, body: { name: 'e.example', zone: 'empty' } });
  assert.equal(empty.status, 422);
  assert.ok(errorOf(empty).details.some((x) => x.path === '@/SOA'));
  assert.equal((await api.call('POST', '/v1/domains', { token: tok, body: { name: 'a.example', zone: 'one', ttl: 5 } })).status, 400);
  assert.equal((await api.db.pool.query('SELECT count(*)::int AS n FROM domains')).rows[0].n, 1);
});

test('PATCH points at another zone now (serial goes up) and toggles delegation-only, validated', async () => {
  const before = (await api.call('GET', '/v1/domains/shop.example', { token: tok })).body as DomainOut;
  const p = await api.call('PATCH', '/v1/domains/shop.example', { token: tok, body: { zone: 'two' } });
  assert.equal(p.status, 200);
  assert.equal((p.body as DomainOut).zone, 'two');
  assert.ok((p.body as DomainOut).serial > before.serial);
  // "two" has an A record for ns1 only: fine for delegation-only. Add a TXT and it is not.
  await api.call('PUT', '/v1/zones/two/rrsets/info/TXT', { token: tok, body: { ttl: 60, records: ['"x"'] } });
  const refused = await api.call('PATCH', '/v1/domains/shop.example', { token: tok, body: { delegation_only: true } });
  assert.equal(refused.status, 422);
  assert.ok(errorOf(refused).details.some((x) => x.path === 'info/TXT'));
  assert.equal(((await api.call('GET', '/v1/domains/shop.example', { token: tok })).body as DomainOut).delegation_only, false);
  await api.call('DELETE', '/v1/zones/two/rrsets/info/TXT', { token: tok });
  const ok = await api.call('PATCH', '/v1/domains/shop.example', { token: tok, body: { delegation_only: true } });
  assert.equal(ok.status, 200);
  assert.equal((ok.body as DomainOut).delegation_only, true);
  assert.equal((await api.call('PATCH', '/v1/domains/shop.example', { token: tok, body: {} })).status, 400);
  assert.equal((await api.call('PATCH', '/v1/domains/shop.example', { token: tok, body: { zone: 'nope' } })).status, 404);
  assert.equal((await api.call('PATCH', '/v1/domains/none.example', { token: tok, body: { zone: 'one' } })).status, 404);
});

test('list in pages', async () => {
  for (const n of ['b.example', 'c.example', 'd.example']) {
    assert.equal((await api.call('POST', '/v1/domains', { token: tok, body: { name: n, zone: 'one' } })).status, 201);
  }
  const p1 = (await api.call('GET', '/v1/domains?limit=2', { token: tok })).body as { domains: DomainOut[]; next: string };
  assert.deepEqual(p1.domains.map((d) => d.name), ['b.example.', 'c.example.']);
  const p2 = (await api.call('GET', `/v1/domains?limit=2&after=${p1.next}`, { token: tok })).body as { domains: DomainOut[]; next: string | null };
  assert.deepEqual(p2.domains.map((d) => d.name), ['d.example.', 'shop.example.']);
});

test('the journal of a domain: its own changes and its zone\'s record changes, with actors, after ?since', async () => {
  const tokenId = (await api.db.pool.query("SELECT k.id FROM api_tokens k JOIN tenants t ON t.id = k.tenant_id WHERE t.name = 'dm'")).rows[0].id;
  await api.call('PUT', '/v1/zones/two/rrsets/www/A', { token: tok, body: { ttl: 60, records: ['192.0.2.1'] } });
  await api.call('PUT', '/v1/zones/one/rrsets/www/A', { token: tok, body: { ttl: 60, records: ['192.0.2.1'] } }); // not its zone now
  const r = await api.call('GET', '/v1/domains/shop.example/changes', { token: tok });
  assert.equal(r.status, 200);
  const ch = (r.body as { changes: { seq: number; actor: string; entity: string; action: string; zone_id: number }[] }).changes;
  const twoId = (await api.db.pool.query("SELECT id FROM zones WHERE name = 'two'")).rows[0].id;
  assert.ok(ch.every((c) => c.actor === `token:${tokenId}`), 'every change by the tenant token');
  assert.deepEqual(ch.filter((c) => c.entity === 'domain').map((c) => c.action), ['create', 'update', 'update']);
  assert.ok(ch.filter((c) => c.entity === 'records').every((c) => c.zone_id === twoId));
  assert.ok(ch.some((c) => c.entity === 'records' && c.action === 'insert'));
  const last = ch[ch.length - 1].seq;
  const none = await api.call('GET', `/v1/domains/shop.example/changes?since=${last}`, { token: tok });
  assert.deepEqual((none.body as { changes: unknown[] }).changes, []);
  const one = await api.call('GET', `/v1/domains/shop.example/changes?since=${ch[0].seq}&limit=1`, { token: tok });
  assert.equal((one.body as { next: number }).next, ch[1].seq);
  assert.equal((await api.call('GET', '/v1/domains/shop.example/changes?since=abc', { token: tok })).status, 400);
});

test('DELETE stops serving the domain; the zone stays', async () => {
  assert.equal((await api.call('DELETE', '/v1/domains/d.example', { token: tok })).status, 204);
  assert.equal((await api.call('GET', '/v1/domains/d.example', { token: tok })).status, 404);
  assert.equal((await api.call('DELETE', '/v1/domains/d.example', { token: tok })).status, 404);
  assert.equal((await api.call('GET', '/v1/zones/one', { token: tok })).status, 200);
});

test('GET shows a pending PZC', async () => {
  await api.db.pool.query(`UPDATE domains SET pzc_zone_id = (SELECT id FROM zones WHERE name = 'one'),
    pzc_at = '2030-01-02T03:04:05Z' WHERE name = 'shop.example.'`);
  const d = (await api.call('GET', '/v1/domains/shop.example', { token: tok })).body as DomainOut;
  assert.deepEqual(d.pzc, { zone: 'one', at: '2030-01-02T03:04:05.000Z' });
  await api.db.pool.query("UPDATE domains SET pzc_zone_id = NULL, pzc_at = NULL WHERE name = 'shop.example.'");
});
