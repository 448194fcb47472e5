// /v1/domains/{name}/update-policy: replace, read, remove; unknown keys and bad patterns are 422
// with their own codes; another tenant's domain is 404; a key a policy names cannot be deleted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, makeZone, errorOf } from './helpers.js';

test('update policy routes', async () => {
  const api = await startApi();
  const a = await api.tenant('pa');
  const b = await api.tenant('pb');
  await makeZone(api, 'z', a);
  assert.equal((await api.call('POST', '/v1/domains', { token: a, body: { name: 'pol.example', zone: 'z' } })).status, 201);
  assert.equal((await api.call('POST', '/v1/tsig-keys', { body: { name: 'Acme.', algorithm: 'hmac-md5', secret: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ=' } })).status, 201);
  const url = '/v1/domains/pol.example/update-policy';
  assert.deepEqual((await api.call('GET', url, { token: a })).body, { domain: 'pol.example.', rules: [] });
  const put = await api.call('PUT', url, { token: a, body: { rules: [{ key: 'acme', names: ['_acme-challenge', '_ACME-challenge.*'], types: ['txt'] }] } });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(put.body, { domain: 'pol.example.', rules: [{ key: 'acme.', names: ['_acme-challenge', '_acme-challenge.*'], types: ['TXT'] }] });
  const unknown = await api.call('PUT', url, { token: a, body: { rules: [{ key: 'nobody.', names: ['*'], types: ['ANY'] }] } });
  assert.equal(unknown.status, 422);
  assert.equal(errorOf(unknown).error, 'unknown_tsig_key');
  const bad = await api.call('PUT', url, { token: a, body: { rules: [{ key: 'acme.', names: ['abs.example.'], types: ['NOPE'] }] } });
  assert.equal(bad.status, 422);
  assert.equal(errorOf(bad).error, 'invalid_update_policy');
  assert.deepEqual(errorOf(bad).details.map((d) => d.path), ['rules[0].names[0]', 'rules[0].types[0]']);
  assert.equal(((await api.call('GET', url, { token: a })).body as { rules: unknown[] }).rules.length, 1, 'a refused PUT changed nothing');
  assert.equal((await api.call('GET', url, { token: b })).status, 404);
  assert.equal((await api.call('PUT', url, { token: b, body: { rules: [] } })).status, 404);
  assert.equal((await api.call('DELETE', '/v1/tsig-keys/acme.')).status, 409);
  assert.equal((await api.call('DELETE', url, { token: a })).status, 204);
  assert.deepEqual(((await api.call('GET', url, { token: a })).body as { rules: unknown[] }).rules, []);
  assert.equal((await api.call('DELETE', '/v1/tsig-keys/acme.')).status, 204);
});
