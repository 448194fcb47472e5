// Tenant isolation: tenant B can neither read, change, delete nor learn of tenant A's zones and
// domains (404 exactly as for missing ones), nor point a domain at A's zone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, makeZone } from './helpers.js';

const api = await startApi();
const a = await api.tenant('tenant-a');
const b = await api.tenant('tenant-b');
await makeZone(api, 'secret', a);
assert.equal((await api.call('POST', '/v1/domains', { token: a, body: { name: 'a.example', zone: 'secret' } })).status, 201);
await api.call('PUT', '/v1/zones/secret/rrsets/www/A', { token: a, body: { ttl: 60, records: ['192.0.2.1'] } });

const snapshot = async () => (await api.db.pool.query(`SELECT
  (SELECT json_agg(r ORDER BY r.id) FROM records r) AS records,
  (SELECT json_agg(z ORDER BY z.id) FROM zones z) AS zones,
  (SELECT json_agg(d ORDER BY d.id) FROM domains d) AS domains`)).rows[0];

/** B's answer about A's resource, and about one that does not exist at all, must be the same. */
async function sameAsMissing(method: string, aUrl: string, missingUrl: string, body?: unknown, raw?: string) {
  const o = raw !== undefined ? { token: b, raw } : { token: b, body };
  const x = await api.call(method, aUrl, o);
  const y = await api.call(method, missingUrl, o);
  assert.equal(x.status, 404, `${method} ${aUrl}: ${x.text}`);
  assert.equal(y.status, 404, `${method} ${missingUrl}`);
  const norm = (t: string) => t.replace(/secret|a\.example|nothere|none\.example/g, 'NAME');
  assert.equal(norm(x.text), norm(y.text), `${method} ${aUrl} tells more than for a missing one`);
}

test('B cannot read A\'s zones, RRsets, files, domains or journal', async () => {
  const before = await snapshot();
  await sameAsMissing('GET', '/v1/zones/secret', '/v1/zones/nothere');
  await sameAsMissing('GET', '/v1/zones/secret/rrsets', '/v1/zones/nothere/rrsets');
  await sameAsMissing('GET', '/v1/zones/secret/rrsets/www/A', '/v1/zones/nothere/rrsets/www/A');
  await sameAsMissing('GET', '/v1/zones/secret/file', '/v1/zones/nothere/file');
  await sameAsMissing('GET', '/v1/domains/a.example', '/v1/domains/none.example');
  await sameAsMissing('GET', '/v1/domains/a.example/changes', '/v1/domains/none.example/changes');
  const zones = await api.call('GET', '/v1/zones', { token: b });
  assert.deepEqual(zones.body, { zones: [], next: null });
  const domains = await api.call('GET', '/v1/domains', { token: b });
  assert.deepEqual(domains.body, { domains: [], next: null });
  assert.deepEqual(await snapshot(), before);
});

test('B cannot change or delete A\'s zones, RRsets and domains', async () => {
  const before = await snapshot();
  await sameAsMissing('PATCH', '/v1/zones/secret', '/v1/zones/nothere', { name: 'mine' });
  await sameAsMissing('DELETE', '/v1/zones/secret', '/v1/zones/nothere');
  await sameAsMissing('PUT', '/v1/zones/secret/rrsets/www/A', '/v1/zones/nothere/rrsets/www/A', { ttl: 1, records: ['203.0.113.1'] });
  await sameAsMissing('DELETE', '/v1/zones/secret/rrsets/www/A', '/v1/zones/nothere/rrsets/www/A');
  await sameAsMissing('PATCH', '/v1/zones/secret/rrsets', '/v1/zones/nothere/rrsets', { changes: [{ owner: 'www', type: 'A', delete: true }] });
  await sameAsMissing('PUT', '/v1/zones/secret/file', '/v1/zones/nothere/file', undefined,
    '$ORIGIN x.\n@ 60 IN SOA ns1 h 1 2 3 4 5\n@ 60 IN NS ns1\nns1 60 IN A 203.0.113.1\n');
  await sameAsMissing('PATCH', '/v1/domains/a.example', '/v1/domains/none.example', { delegation_only: true });
  await sameAsMissing('DELETE', '/v1/domains/a.example', '/v1/domains/none.example');
  assert.deepEqual(await snapshot(), before);
});

test('B cannot point a domain at A\'s zone, nor move A\'s domain; ?tenant cannot reach A', async () => {
  await makeZone(api, 'bzone', b);
  assert.equal((await api.call('POST', '/v1/domains', { token: b, body: { name: 'b.example', zone: 'bzone' } })).status, 201);
  const before = await snapshot();
  const x = await api.call('POST', '/v1/domains', { token: b, body: { name: 'steal.example', zone: 'secret' } });
  const y = await api.call('POST', '/v1/domains', { token: b, body: { name: 'steal.example', zone: 'nothere' } });
  assert.equal(x.status, 404);
  assert.equal(x.text.replace('secret', 'nothere'), y.text);
  assert.equal((await api.call('PATCH', '/v1/domains/b.example', { token: b, body: { zone: 'secret' } })).status, 404);
  assert.equal((await api.call('GET', '/v1/zones/secret?tenant=tenant-a', { token: b })).status, 404);
  assert.equal((await api.call('GET', '/v1/zones?tenant=tenant-a', { token: b })).status, 404);
  assert.equal((await api.call('GET', '/v1/zones/bzone?tenant=tenant-b', { token: b })).status, 200, 'naming its own tenant is fine');
  // A zone of the same name in B's tenant is B's own, and A's stays untouched.
  assert.equal((await api.call('POST', '/v1/zones', { token: b, body: { name: 'secret' } })).status, 201);
  assert.equal((await api.call('GET', '/v1/zones/secret', { token: a })).status, 200);
  const aZone = (await api.call('GET', '/v1/zones/secret', { token: a })).body as { records: number };
  assert.equal(aZone.records, 5);
  const after = await snapshot();
  assert.deepEqual(after.domains, before.domains);
  assert.deepEqual(after.records, before.records);
  // The database refuses a cross-tenant domain too (composite foreign key), whatever the API does.
  await assert.rejects(api.db.pool.query(`INSERT INTO domains (name, tenant_id, zone_id)
    SELECT 'fk.example.', (SELECT id FROM tenants WHERE name = 'tenant-b'), (SELECT z.id FROM zones z JOIN tenants t ON t.id = z.tenant_id WHERE t.name = 'tenant-a')`), /foreign key/);
});

test('the admin reaches A\'s resources with ?tenant=tenant-a', async () => {
  assert.equal((await api.call('GET', '/v1/zones/secret?tenant=tenant-a')).status, 200);
  assert.equal((await api.call('GET', '/v1/domains/a.example?tenant=tenant-a')).status, 200);
  assert.equal((await api.call('GET', '/v1/domains/a.example')).status, 404, 'the default tenant is another one');
});
