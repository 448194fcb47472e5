// The transfer routes: TSIG keys (admin only, the secret never returned or logged) and a domain's
// transfer settings (its tenant's; keys referenced by name), with 4xx errors naming the field and
// changing nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, makeZone, errorOf } from './helpers.js';

const api = await startApi();
const SECRET = Buffer.alloc(32, 0x5a).toString('base64');
const acme = await api.tenant('acme');
const other = await api.tenant('other');
await makeZone(api, 'z', acme);
assert.equal((await api.call('POST', '/v1/domains', { token: acme, body: { name: 'acme.example', zone: 'z' } })).status, 201);
await makeZone(api, 'y', other);
assert.equal((await api.call('POST', '/v1/domains', { token: other, body: { name: 'other.example', zone: 'y' } })).status, 201);

test('admins add, list and delete TSIG keys; the secret is never returned nor logged', async () => {
  const r = await api.call('POST', '/v1/tsig-keys', { body: { name: 'Sec1.Example', algorithm: 'hmac-sha256', secret: SECRET } });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(Object.keys(r.body as object).sort(), ['algorithm', 'created_at', 'domains', 'name']);
  assert.equal((r.body as { name: string }).name, 'sec1.example.');
  const list = await api.call('GET', '/v1/tsig-keys');
  assert.equal(list.status, 200);
  assert.deepEqual((list.body as { keys: { name: string }[] }).keys.map((k) => k.name), ['sec1.example.']);
  assert.ok(!list.text.includes(SECRET));
  assert.ok(!api.logs.some((l) => l.includes(SECRET)));
  assert.equal((await api.call('POST', '/v1/tsig-keys', { body: { name: 'sec1.example.', algorithm: 'hmac-sha512', secret: SECRET } })).status, 409);
  // Tenants do not see keys.
  assert.equal((await api.call('GET', '/v1/tsig-keys', { token: acme })).status, 403);
  assert.equal((await api.call('POST', '/v1/tsig-keys', { token: acme, body: { name: 'k.', algorithm: 'hmac-sha256', secret: SECRET } })).status, 403);
});

test('bad key input: a 4xx naming the field, nothing stored', async () => {
  const cases: Array<[Record<string, unknown>, number, string]> = [
    [{ name: 'k2.', algorithm: 'hmac-md5', secret: SECRET }, 400, 'body.algorithm'],
    [{ name: 'k2.', algorithm: 'hmac-sha256', secret: 'not base64!' }, 422, 'secret'],
    [{ name: 'k2.', algorithm: 'hmac-sha256', secret: 'c2hvcnQ=' }, 422, 'secret'],
    [{ name: 'a..b', algorithm: 'hmac-sha256', secret: SECRET }, 422, 'name'],
    [{ name: 'k2.', algorithm: 'hmac-sha256' }, 400, 'body'],
  ];
  for (const [body, status, path] of cases) {
    const r = await api.call('POST', '/v1/tsig-keys', { body });
    assert.equal(r.status, status, r.text);
    assert.ok(errorOf(r).details.some((d) => d.path.startsWith(path)), r.text);
  }
  assert.equal((await api.db.pool.query('SELECT count(*)::int AS n FROM tsig_keys')).rows[0].n, 1);
});

test('a tenant sets transfer settings of its own domain, referencing a key by name', async () => {
  const empty = await api.call('GET', '/v1/domains/acme.example/transfer', { token: acme });
  assert.equal(empty.status, 200);
  assert.deepEqual(empty.body, { domain: 'acme.example.', allow: [], tsig_key: null, notify: [], updated_at: null });
  const r = await api.call('PUT', '/v1/domains/acme.example/transfer', {
    token: acme, body: { allow: ['192.0.2.0/24', '2001:db8::/32', '198.51.100.7'], tsig_key: 'sec1.example', notify: ['192.0.2.53', '[2001:db8::53]:5353'] },
  });
  assert.equal(r.status, 200, r.text);
  const b = r.body as { allow: string[]; tsig_key: string; notify: string[] };
  assert.deepEqual(b.allow, ['192.0.2.0/24', '2001:db8::/32', '198.51.100.7/32']);
  assert.equal(b.tsig_key, 'sec1.example.');
  assert.deepEqual(b.notify, ['192.0.2.53:53', '[2001:db8::53]:5353']);
  assert.deepEqual((await api.call('GET', '/v1/domains/acme.example/transfer', { token: acme })).body, r.body);
  // Another tenant's domain is not found; the key in use cannot be deleted.
  assert.equal((await api.call('PUT', '/v1/domains/other.example/transfer', { token: acme, body: { allow: [] } })).status, 404);
  assert.equal((await api.call('DELETE', '/v1/tsig-keys/sec1.example.')).status, 409);
  const keys = (await api.call('GET', '/v1/tsig-keys')).body as { keys: { domains: number }[] };
  assert.equal(keys.keys[0].domains, 1);
  // The change is journaled for the DNS side, without the secret.
  const j = await api.db.pool.query("SELECT action, details FROM journal WHERE entity = 'transfer' ORDER BY seq");
  assert.ok(j.rows.some((x) => x.action === 'settings-insert'));
  assert.ok(!JSON.stringify(j.rows).includes(SECRET));
});

test('bad transfer settings: 422 naming each field, the settings unchanged', async () => {
  const before = (await api.call('GET', '/v1/domains/acme.example/transfer', { token: acme })).body;
  const cases: Array<[Record<string, unknown>, number, string]> = [
    [{ allow: ['192.0.2.1/24'] }, 422, 'allow[0]'],
    [{ allow: ['10.0.0.0/8', 'nonsense'] }, 422, 'allow[1]'],
    [{ allow: ['192.0.2.0/33'] }, 422, 'allow[0]'],
    [{ allow: [], notify: ['ns.example.net:53'] }, 422, 'notify[0]'],
    [{ allow: [], notify: ['192.0.2.1:99999'] }, 422, 'notify[0]'],
    [{ allow: [], tsig_key: 'missing.key.' }, 422, 'tsig_key'],
    [{ allow: 'everyone' }, 400, 'body.allow'],
    [{ allow: [], extra: 1 }, 400, 'body.extra'],
  ];
  for (const [body, status, path] of cases) {
    const r = await api.call('PUT', '/v1/domains/acme.example/transfer', { token: acme, body });
    assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.text}`);
    assert.ok(errorOf(r).details.some((d) => d.path === path), r.text);
  }
  assert.deepEqual((await api.call('GET', '/v1/domains/acme.example/transfer', { token: acme })).body, before);
});

test('DELETE removes the settings, then the key can go', async () => {
  assert.equal((await api.call('DELETE', '/v1/domains/acme.example/transfer', { token: acme })).status, 204);
  assert.equal((await api.call('DELETE', '/v1/domains/acme.example/transfer', { token: acme })).status, 404);
  assert.equal((await api.call('DELETE', '/v1/tsig-keys/sec1.example.')).status, 204);
  assert.equal((await api.call('DELETE', '/v1/tsig-keys/sec1.example.')).status, 404);
});
