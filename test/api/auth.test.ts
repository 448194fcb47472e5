// Tokens and tenants: who may call what, tokens stored hashed and shown once, revocation,
// health and metrics, and request logs without secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startApi, errorOf, ADMIN } from './helpers.js';

const api = await startApi({ metrics: () => '# TYPE glidepath_dns_test gauge\nglidepath_dns_test 7\n' });

test('no token, a malformed header or an unknown token is a 401 in the error shape', async () => {
  for (const headers of [{}, { authorization: 'Basic abc' }, { authorization: 'Bearer nope' }] as Record<string, string>[]) {
    const r = await api.call('GET', '/v1/zones', { token: null, headers });
    assert.equal(r.status, 401);
    assert.equal(errorOf(r).error, 'unauthorized');
    assert.equal(typeof errorOf(r).message, 'string');
    assert.deepEqual(errorOf(r).details, []);
  }
  // Even an unknown /v1 route asks for a token first.
  assert.equal((await api.call('GET', '/v1/nothing', { token: null })).status, 401);
});

test('tenants: create, list, duplicate 409, bad name 400, delete refused while it owns zones', async () => {
  const a = await api.call('POST', '/v1/tenants', { body: { name: 'acme' } });
  assert.equal(a.status, 201);
  assert.equal((a.body as { name: string }).name, 'acme');
  const dup = await api.call('POST', '/v1/tenants', { body: { name: 'acme' } });
  assert.equal(dup.status, 409);
  assert.equal(errorOf(dup).error, 'tenant_exists');
  const bad = await api.call('POST', '/v1/tenants', { body: { name: 'Not Valid' } });
  assert.equal(bad.status, 400);
  assert.equal(errorOf(bad).details[0].path, 'body.name');
  const extra = await api.call('POST', '/v1/tenants', { body: { name: 'x1', colour: 'red' } });
  assert.equal(extra.status, 400);
  assert.deepEqual(errorOf(extra).details, [{ path: 'body.colour', problem: 'unknown field' }]);

  assert.equal((await api.call('POST', '/v1/zones?tenant=acme', { body: { name: 'z' } })).status, 201);
  const list = await api.call('GET', '/v1/tenants');
  const acme = (list.body as { tenants: { name: string; zones: number }[] }).tenants.find((t) => t.name === 'acme');
  assert.equal(acme?.zones, 1);
  assert.equal((await api.call('DELETE', '/v1/tenants/acme')).status, 409);
  assert.equal((await api.call('DELETE', '/v1/zones/z?tenant=acme')).status, 204);
  assert.equal((await api.call('DELETE', '/v1/tenants/acme')).status, 204);
  assert.equal((await api.call('DELETE', '/v1/tenants/acme')).status, 404);
});

test('tokens are shown once, stored as a SHA-256 only, and stop working when revoked', async () => {
  await api.call('POST', '/v1/tenants', { body: { name: 'tok' } });
  const r = await api.call('POST', '/v1/tokens', { body: { tenant: 'tok' } });
  assert.equal(r.status, 201);
  const t = r.body as { id: string; token: string; tenant: string; admin: boolean };
  assert.equal(t.tenant, 'tok');
  assert.equal(t.admin, false);
  const row = (await api.db.pool.query('SELECT token_hash FROM api_tokens WHERE id = $1', [t.id])).rows[0];
  assert.deepEqual(row.token_hash, createHash('sha256').update(t.token).digest());
  const list = await api.call('GET', '/v1/tokens?tenant=tok');
  const listed = (list.body as { tokens: Record<string, unknown>[] }).tokens;
  assert.equal(listed.length, 1);
  assert.equal(listed[0].id, t.id);
  assert.ok(!('token' in listed[0]) && !JSON.stringify(list.body).includes(t.token), 'the secret is never listed');

  assert.equal((await api.call('GET', '/v1/zones', { token: t.token })).status, 200);
  assert.equal((await api.call('DELETE', `/v1/tokens/${t.id}`)).status, 204);
  assert.equal((await api.call('GET', '/v1/zones', { token: t.token })).status, 401);
  assert.equal((await api.call('DELETE', '/v1/tokens/00000000-0000-0000-0000-000000000000')).status, 404);
  assert.equal((await api.call('POST', '/v1/tokens', { body: { tenant: 'ghost' } })).status, 404);
  assert.equal((await api.call('POST', '/v1/tokens', { body: {} })).status, 422);
});

test('a stored admin token works like GLIDEPATH_ADMIN_TOKEN and journals as token:<id>', async () => {
  const r = await api.call('POST', '/v1/tokens', { body: { admin: true } });
  const t = r.body as { id: string; token: string; admin: boolean; tenant: string | null };
  assert.equal(t.admin, true);
  assert.equal(t.tenant, null);
  assert.equal((await api.call('POST', '/v1/tenants', { token: t.token, body: { name: 'by-admin' } })).status, 201);
  assert.equal((await api.call('POST', '/v1/zones?tenant=by-admin', { token: t.token, body: { name: 'adminzone' } })).status, 201);
  const j = (await api.db.pool.query("SELECT actor FROM journal WHERE entity = 'zone' AND details->>'name' = 'adminzone'")).rows;
  assert.deepEqual(j.map((x) => x.actor), [`token:${t.id}`]);
});

test('tenant tokens on tenant and token management get 403 admin_required, saying an admin token is needed', async () => {
  const tok = await api.tenant('plain');
  for (const [m, u, body] of [['GET', '/v1/tenants'], ['POST', '/v1/tenants', { name: 'evil' }], ['GET', '/v1/tokens'],
    ['POST', '/v1/tokens', { admin: true }], ['DELETE', '/v1/tenants/plain']] as const) {
    const r = await api.call(m, u, { token: tok, body });
    assert.equal(r.status, 403, `${m} ${u}`);
    assert.equal(errorOf(r).error, 'admin_required');
    assert.match(errorOf(r).message, /needs an admin token/);
  }
  assert.equal((await api.db.pool.query("SELECT count(*)::int AS n FROM tenants WHERE name = 'evil'")).rows[0].n, 0);
  assert.equal((await api.db.pool.query('SELECT count(*)::int AS n FROM api_tokens WHERE is_admin')).rows[0].n, 1, 'only the one made by the admin above');
});

test('healthz, readyz and metrics need no token; readyz follows ready()', async () => {
  assert.deepEqual((await api.call('GET', '/healthz', { token: null })).body, { status: 'ok' });
  assert.equal((await api.call('GET', '/readyz', { token: null })).status, 200);
  let ready = false;
  const { startApi: again } = await import('./helpers.js');
  const other = await again({ ready: () => ready });
  const nr = await other.call('GET', '/readyz', { token: null });
  assert.equal(nr.status, 503);
  assert.equal(errorOf(nr).details[0].path, 'snapshot');
  ready = true;
  assert.equal((await other.call('GET', '/readyz', { token: null })).status, 200);

  await api.call('GET', '/v1/zones', { token: null });
  const m = await api.call('GET', '/metrics', { token: null });
  assert.equal(m.status, 200);
  assert.match(String(m.headers['content-type']), /^text\/plain/);
  assert.match(m.text, /glidepath_api_requests_total\{method="GET",route="\/v1\/zones",status="401"\} [1-9]/);
  assert.match(m.text, /glidepath_api_requests_total\{method="POST",route="\/v1\/tenants",status="201"\} [1-9]/);
  assert.match(m.text, /glidepath_dns_test 7/);
});

test('requests are logged with id, tenant, route and status, and never with a token', async () => {
  const tok = await api.tenant('logged');
  api.logs.length = 0;
  const r = await api.call('GET', '/v1/zones', { token: tok, headers: { 'x-request-id': 'req-42' } });
  assert.equal(r.headers['x-request-id'], 'req-42');
  await api.call('GET', '/v1/zones', { token: 'wrong-secret-value' });
  const lines = api.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
  const line = lines.find((l) => l.reqId === 'req-42');
  assert.ok(line, 'a log line for the request');
  assert.equal(line.route, '/v1/zones');
  assert.equal(line.status, 200);
  assert.equal(line.tenant, 'logged');
  assert.equal(typeof line.ms, 'number');
  const raw = api.logs.find((l) => l.includes('"req-42"') && l.includes('"route"'))!;
  assert.equal(raw.match(/"reqId"/g)?.length, 1, `one reqId key in the line: ${raw}`);
  const all = api.logs.join('\n');
  for (const secret of [tok, ADMIN, 'wrong-secret-value']) assert.ok(!all.includes(secret), 'no secret in the log');
});

test('unknown routes are a JSON 404', async () => {
  const r = await api.call('GET', '/nope', { token: null });
  assert.equal(r.status, 404);
  assert.equal(errorOf(r).error, 'route_not_found');
});
