// /v1/domains/{name}/changes when a name changes hands (issue 16 review): the new owner sees the
// history of its own domain only, not the previous owner's (transfer settings, record changes of
// the old zone, its delete), whether the name moves to another tenant or is re-created.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, makeZone } from './helpers.js';

const api = await startApi();
const alice = await api.tenant('alice');
const bob = await api.tenant('bob');
await makeZone(api, 'a-zone', alice);
await makeZone(api, 'b-zone', bob);

interface Change { seq: number; entity: string; action: string; actor: string; zone_id: number | null; details: Record<string, unknown> }
const changes = async (tok: string) => {
  const r = await api.call('GET', '/v1/domains/handed.example/changes?limit=1000', { token: tok });
  assert.equal(r.status, 200, r.text);
  return (r.body as { changes: Change[] }).changes;
};
const ok = (r: { status: number; text: string }, status: number) => assert.equal(r.status, status, r.text);

test('a name that moves to another tenant starts a history of its own', async () => {
  ok(await api.call('POST', '/v1/domains', { token: alice, body: { name: 'handed.example', zone: 'a-zone' } }), 201);
  ok(await api.call('PUT', '/v1/domains/handed.example/transfer', { token: alice, body: { allow: ['192.0.2.0/24'], notify: ['192.0.2.53:53'] } }), 200);
  ok(await api.call('PUT', '/v1/zones/a-zone/rrsets/www/A', { token: alice, body: { ttl: 60, records: ['192.0.2.80'] } }), 200);
  const before = await changes(alice);
  assert.ok(before.some((c) => c.entity === 'transfer'), 'alice sees her transfer settings');
  assert.ok(before.some((c) => c.entity === 'records'));
  ok(await api.call('DELETE', '/v1/domains/handed.example', { token: alice }), 204);

  ok(await api.call('POST', '/v1/domains', { token: bob, body: { name: 'handed.example', zone: 'b-zone' } }), 201);
  const after = await changes(bob);
  const bZone = (await api.db.pool.query("SELECT id FROM zones WHERE name = 'b-zone'")).rows[0].id as number;
  assert.deepEqual(after.map((c) => `${c.entity} ${c.action}`), ['domain create']);
  assert.ok(after.every((c) => c.zone_id === bZone && !JSON.stringify(c.details).includes('192.0.2.53')));
  // Bob's own edits show up.
  ok(await api.call('PUT', '/v1/zones/b-zone/rrsets/www/A', { token: bob, body: { ttl: 60, records: ['198.51.100.1'] } }), 200);
  assert.deepEqual((await changes(bob)).map((c) => `${c.entity} ${c.action}`), ['domain create', 'records insert']);
});

test('re-created by the same tenant: the earlier domain and the zone edits before it stay out', async () => {
  ok(await api.call('PUT', '/v1/domains/handed.example/transfer', { token: bob, body: { allow: ['192.0.2.0/24'] } }), 200);
  ok(await api.call('DELETE', '/v1/domains/handed.example', { token: bob }), 204);
  ok(await api.call('PUT', '/v1/zones/b-zone/rrsets/mail/A', { token: bob, body: { ttl: 60, records: ['198.51.100.2'] } }), 200);
  ok(await api.call('POST', '/v1/domains', { token: bob, body: { name: 'handed.example', zone: 'b-zone' } }), 201);
  assert.deepEqual((await changes(bob)).map((c) => `${c.entity} ${c.action}`), ['domain create']);
});
