// The registry of API error codes: one code per cause, the status a property of the code, the same
// list in errors.ts, src/api/README.md and api/openapi.json; and each cause answered with its code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ERRORS, ApiError } from '../../src/api/errors.js';
import { startApi, makeZone, errorOf, type Res } from './helpers.js';

const ROOT = new URL('../../../', import.meta.url);

test('the README and the OpenAPI document list exactly the registry, with the same statuses', async () => {
  const readme = await readFile(new URL('src/api/README.md', ROOT), 'utf8');
  const listed = new Map([...readme.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]));
  assert.deepEqual(listed, new Map(Object.entries(ERRORS).map(([c, e]) => [c, e.status])));
  const doc = JSON.parse(await readFile(new URL('api/openapi.json', ROOT), 'utf8')) as {
    components: { schemas: Record<string, { properties: { error: { enum: string[] } } }> };
  };
  const schema = Object.values(doc.components.schemas).find((s) => s.properties?.error?.enum);
  assert.deepEqual(schema?.properties.error.enum, Object.keys(ERRORS));
  for (const code of Object.keys(ERRORS)) assert.match(code, /^[a-z]+(_[a-z]+)*$/, 'snake_case');
});

test('a code carries its status; a thrower naming a code of another status is a bug', () => {
  assert.equal(new ApiError('zone_in_use', 'x').status, 409);
  assert.equal(new ApiError(404, 'x').code, 'not_found');
  assert.throws(() => new ApiError(422, 'x', [], 'zone_in_use'), /zone_in_use is a 409/);
});

const api = await startApi();
const acme = await api.tenant('acme');
const other = await api.tenant('other');
await makeZone(api, 'web', acme);
await makeZone(api, 'web2', acme);
assert.equal((await api.call('POST', '/v1/domains', { token: acme, body: { name: 'acme.example', zone: 'web' } })).status, 201);

function is(r: Res, code: keyof typeof ERRORS): void {
  assert.equal(errorOf(r)?.error, code, r.text);
  assert.equal(r.status, ERRORS[code].status, r.text);
}

test('already exists: tenant_exists, zone_exists, domain_taken (not saying whose), key_exists', async () => {
  is(await api.call('POST', '/v1/tenants', { body: { name: 'acme' } }), 'tenant_exists');
  is(await api.call('POST', '/v1/zones', { token: acme, body: { name: 'web' } }), 'zone_exists');
  await makeZone(api, 'theirs', other);
  const taken = await api.call('POST', '/v1/domains', { token: other, body: { name: 'acme.example', zone: 'theirs' } });
  is(taken, 'domain_taken');
  assert.deepEqual(errorOf(taken).details, [{ path: 'name', problem: 'this domain name is already served' }], 'names no tenant, no row, no constraint');
  const secret = Buffer.alloc(32, 7).toString('base64');
  assert.equal((await api.call('POST', '/v1/tsig-keys', { body: { name: 'k1.', algorithm: 'hmac-sha256', secret } })).status, 201);
  is(await api.call('POST', '/v1/tsig-keys', { body: { name: 'k1.', algorithm: 'hmac-sha256', secret } }), 'key_exists');
});

test('still in use: zone_in_use, tenant_in_use, key_in_use; nothing deleted', async () => {
  const z = await api.call('DELETE', '/v1/zones/web', { token: acme });
  is(z, 'zone_in_use');
  assert.deepEqual(errorOf(z).details.map((d) => d.path), ['acme.example.']);
  is(await api.call('DELETE', '/v1/tenants/acme'), 'tenant_in_use');
  const secret = Buffer.alloc(32, 8).toString('base64');
  assert.equal((await api.call('POST', '/v1/tsig-keys', { body: { name: 'k2.', algorithm: 'hmac-sha256', secret } })).status, 201);
  assert.equal((await api.call('PUT', '/v1/domains/acme.example/transfer', { token: acme, body: { allow: [], tsig_key: 'k2.' } })).status, 200);
  is(await api.call('DELETE', '/v1/tsig-keys/k2.'), 'key_in_use');
  const n = await api.db.pool.query("SELECT (SELECT count(*) FROM zones WHERE name = 'web')::int AS z, (SELECT count(*) FROM tsig_keys WHERE name = 'k2.')::int AS k");
  assert.deepEqual(n.rows[0], { z: 1, k: 1 });
});

test('the other causes: admin_required, route_not_found, invalid_cursor, exclusive_fields, pzc_same_zone, unknown_tsig_key, not_found', async () => {
  is(await api.call('GET', '/v1/tenants', { token: acme }), 'admin_required');
  is(await api.call('GET', '/v1/nothing-here'), 'route_not_found');
  is(await api.call('GET', '/v1/tokens?after=nope'), 'invalid_cursor');
  is(await api.call('POST', '/v1/tokens', { body: { tenant: 'acme', admin: true } }), 'exclusive_fields');
  const at = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  is(await api.call('PUT', '/v1/domains/acme.example/pzc', { token: acme, body: { zone: 'web', at } }), 'pzc_same_zone');
  is(await api.call('PUT', '/v1/domains/acme.example/transfer', { token: acme, body: { allow: [], tsig_key: 'nosuch.' } }), 'unknown_tsig_key');
  is(await api.call('GET', '/v1/zones/nosuch', { token: acme }), 'not_found');
  is(await api.call('GET', '/v1/zones', { token: 'wrong' }), 'unauthorized');
  is(await api.call('POST', '/v1/zones', { token: acme, body: { name: 'x', bogus: 1 } }), 'bad_request');
});
