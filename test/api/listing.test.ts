// Listings at scale (issue 16): GET /v1/domains and /v1/zones page by a keyset cursor, stable while
// other writers insert, with filters (name prefix, zone, pending PZC).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi } from './helpers.js';

const api = await startApi();
const tok = await api.tenant('lister');
const pool = api.db.pool;
const tenant = (await pool.query<{ id: number }>("SELECT id FROM tenants WHERE name = 'lister'")).rows[0].id;

async function zone(name: string): Promise<number> {
  const id = (await pool.query<{ id: number }>('INSERT INTO zones (tenant_id, name) VALUES ($1, $2) RETURNING id', [tenant, name])).rows[0].id;
  await pool.query(`INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES ($1, '@', 6, 3600, 'ns1 h 1 3600 600 86400 300'),
    ($1, '@', 2, 3600, 'ns1'), ($1, 'ns1', 1, 3600, '192.0.2.1')`, [id]);
  return id;
}
const parked = await zone('parked');
const shop = await zone('shop');
await zone('shop-new');
// 300 on "parked" (a-000. .. a-299.), 50 on "shop" (b-00. .. b-49.), one of them with a switch pending.
await pool.query(`INSERT INTO domains (name, tenant_id, zone_id) SELECT 'a-' || lpad(g::text, 3, '0') || '.test.', $1, $2 FROM generate_series(0, 299) g`, [tenant, parked]);
await pool.query(`INSERT INTO domains (name, tenant_id, zone_id) SELECT 'b-' || lpad(g::text, 2, '0') || '.test.', $1, $2 FROM generate_series(0, 49) g`, [tenant, shop]);
await pool.query("UPDATE domains SET pzc_zone_id = (SELECT id FROM zones WHERE name = 'shop-new'), pzc_at = date_trunc('second', now()) + interval '1 day' WHERE name = 'b-07.test.'");

interface Page { domains: Array<{ name: string; zone: string }>; next: string | null }
const get = async (url: string) => {
  const r = await api.call('GET', url, { token: tok });
  assert.equal(r.status, 200, r.text);
  return r.body as Page;
};

test('paging by cursor while others insert: every domain that existed before is seen once, in order', async () => {
  const seen: string[] = [];
  let after: string | null = '';
  let inserted = 0;
  while (after !== null) {
    const p: Page = await get(`/v1/domains?limit=37${after ? `&after=${encodeURIComponent(after)}` : ''}`);
    seen.push(...p.domains.map((d) => d.name));
    after = p.next;
    // Concurrent inserts before and after the cursor, between pages.
    await pool.query(`INSERT INTO domains (name, tenant_id, zone_id) VALUES ($1, $3, $4), ($2, $3, $4)`,
      [`a-000-${inserted}.test.`, `zz-${inserted}.test.`, tenant, shop]);
    inserted++;
  }
  assert.equal(new Set(seen).size, seen.length, 'no domain twice');
  for (let i = 0; i < 300; i++) assert.ok(seen.includes(`a-${String(i).padStart(3, '0')}.test.`));
  for (let i = 0; i < 50; i++) assert.ok(seen.includes(`b-${String(i).padStart(2, '0')}.test.`));
  const sorted = [...seen].sort((x, y) => (Buffer.from(x) < Buffer.from(y) ? -1 : 1));
  assert.deepEqual(seen, sorted, 'bytewise name order');
  // Inserted after the cursor had passed their place: not seen; inserted ahead of it: seen.
  assert.ok(!seen.includes('a-000-1.test.'));
  assert.ok(seen.includes(`zz-0.test.`));
});

test('filters: name prefix, zone, pending PZC, and combined; a cursor works within a filter', async () => {
  const pre = await get('/v1/domains?prefix=b-1&limit=1000');
  assert.deepEqual(pre.domains.map((d) => d.name), Array.from({ length: 10 }, (_, i) => `b-1${i}.test.`));
  const z = await get('/v1/domains?zone=shop&limit=20');
  assert.equal(z.domains.length, 20);
  assert.ok(z.domains.every((d) => d.zone === 'shop'));
  const z2 = await get(`/v1/domains?zone=shop&limit=1000&after=${encodeURIComponent(z.next!)}`);
  assert.ok(z2.domains.every((d) => d.zone === 'shop' && d.name > z.next!));
  assert.equal(z.domains.length + z2.domains.length, (await pool.query("SELECT count(*)::int AS n FROM domains WHERE zone_id = $1", [shop])).rows[0].n);
  const p = await get('/v1/domains?pending_pzc=true');
  assert.deepEqual(p.domains.map((d) => d.name), ['b-07.test.']);
  const none = await get('/v1/domains?pending_pzc=true&zone=parked');
  assert.deepEqual(none.domains, []);
  const unknown = await api.call('GET', '/v1/domains?zone=nope', { token: tok });
  assert.equal(unknown.status, 404);
});

test('zones: prefix filter, cursor, and a bounded list of the domains each serves with their count', async () => {
  const all = (await api.call('GET', '/v1/zones?limit=2', { token: tok })).body as { zones: Array<{ name: string; domains: string[]; domain_count: number }>; next: string };
  assert.deepEqual(all.zones.map((z) => z.name), ['parked', 'shop']);
  assert.equal(all.zones[0].domains.length, 100, 'at most 100 names');
  assert.equal(all.zones[0].domain_count, 300);
  const rest = (await api.call('GET', `/v1/zones?after=${all.next}`, { token: tok })).body as { zones: Array<{ name: string }>; next: null };
  assert.deepEqual(rest.zones.map((z) => z.name), ['shop-new']);
  const pre = (await api.call('GET', '/v1/zones?prefix=shop', { token: tok })).body as { zones: Array<{ name: string }> };
  assert.deepEqual(pre.zones.map((z) => z.name), ['shop', 'shop-new']);
});
