// Passive health checks end to end (issue 20): a server's heartbeats keep its record in the answer;
// when they stop, the record leaves within max_age plus the realtime bound, with no request to set
// it off (the scheduler expires it), and comes back with the next heartbeat. Real UDP queries, a
// real PostgreSQL, the HTTP API; the response cache is on (it must never serve the stale answer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, waitFor, settle } from '../helpers/server.js';
import { query } from '../helpers/dig.js';
import { xfr, xfrQuery } from '../helpers/xfr.js';

const s = await startTestServer();
const ADMIN = 'test-admin-token';

async function call(method: string, path: string, body?: unknown, token = ADMIN, headers: Record<string, string> = {}) {
  const r = await fetch(s.apiUrl() + path, {
    method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) as Record<string, unknown> : {} };
}

assert.equal((await call('POST', '/v1/tenants', { name: 'acme' })).status, 201);
const acme = (await call('POST', '/v1/tenants/acme/tokens', {})).body.token as string;
for (const name of ['web1', 'web2']) {
  const r = await call('POST', '/v1/health-checks', { name, kind: 'passive', max_age: name === 'web1' ? 2 : 600 }, acme);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.state, 'up');
}
const zone = await call('POST', '/v1/zones', {
  name: 'acme-web', rrsets: [
    { owner: '@', type: 'SOA', ttl: 3600, records: ['ns1 hostmaster 1 3600 600 604800 300'] },
    { owner: '@', type: 'NS', ttl: 3600, records: ['ns1'] },
    { owner: 'ns1', type: 'A', ttl: 3600, records: ['192.0.2.53'] },
  ],
}, acme);
assert.equal(zone.status, 201, JSON.stringify(zone.body));
// www: one record per server, each gated by its own check; both: every record gated by web1.
const www = await call('PUT', '/v1/zones/acme-web/rrsets/www/A', { ttl: 30, records: ['192.0.2.1', '192.0.2.2'], health_checks: { '192.0.2.1': 'web1', '192.0.2.2': 'web2' } }, acme);
assert.equal(www.status, 200, JSON.stringify(www.body));
assert.deepEqual(www.body.health_checks, { '192.0.2.1': 'web1', '192.0.2.2': 'web2' });
assert.equal(www.body.warnings, undefined, 'a 30 s TTL is short enough');
const both = await call('PUT', '/v1/zones/acme-web/rrsets/both/A', { ttl: 300, records: ['192.0.2.7', '192.0.2.8'], health_checks: { '192.0.2.7': 'web1', '192.0.2.8': 'web1' } }, acme);
assert.equal(both.status, 200);
assert.equal((both.body.warnings as Array<{ code: string }>)[0].code, 'gated_ttl_long', 'a gated RRset with a 300 s TTL is warned about');
assert.equal((await call('POST', '/v1/domains', { name: 'acme.example', zone: 'acme-web' }, acme)).status, 201);

await settle(s);
const hbToken = (await call('POST', '/v1/health-checks/web1/tokens', {}, acme)).body.token as string;
const beat = () => call('POST', '/v1/heartbeats/web1', undefined, hbToken);

async function answer(name: string): Promise<string[]> {
  const r = await query(s.dnsPort(), name, 'A', { timeoutMs: 2000, tries: 3 });
  assert.equal(r.rcode, 'NOERROR');
  return r.answer.map((a) => a.split(' ').pop()!).sort();
}

test('the check-scoped token sends its heartbeats and nothing else', async () => {
  const b = await beat();
  assert.equal(b.status, 200, JSON.stringify(b.body));
  assert.deepEqual(b.body, { name: 'web1', state: 'up', max_age: 2 });
  for (const [method, path] of [['GET', '/v1/zones'], ['GET', '/v1/health-checks'], ['POST', '/v1/heartbeats/web2'], ['DELETE', '/v1/health-checks/web1']]) {
    const r = await call(method, path, undefined, hbToken);
    assert.equal(r.status, 403, `${method} ${path}`);
    assert.equal(r.body.error, 'token_scope', `${method} ${path}`);
  }
  const pdns = await fetch(s.apiUrl() + '/api/v1/servers/localhost/zones', { headers: { 'x-api-key': hbToken } });
  assert.equal(pdns.status, 403, 'the PowerDNS API refuses it too');
  assert.equal((await call('GET', '/v1/health-checks/web2', undefined, acme)).body.state, 'up', 'web2 got no heartbeat from it');
});

test('a heartbeat stops: the record leaves the answer within max_age; the next heartbeat brings it back', async () => {
  await beat();
  const last = Date.now();
  assert.deepEqual(await answer('www.acme.example'), ['192.0.2.1', '192.0.2.2']);
  // max_age is 2 s; the bound adds the scheduler's tick and the realtime path, generously.
  await waitFor(async () => (await answer('www.acme.example')).length === 1, 2000 + 8000, 'www to lose 192.0.2.1');
  const gone = Date.now() - last;
  assert.ok(gone >= 1900, `left after ${gone} ms, before max_age ran out`);
  console.log(`# record left ${gone} ms after the last heartbeat (max_age 2000 ms)`);
  assert.deepEqual(await answer('www.acme.example'), ['192.0.2.2'], 'the other server stays');
  const chk = await call('GET', '/v1/health-checks/web1', undefined, acme);
  assert.equal(chk.body.state, 'down');
  assert.match((chk.body.history as Array<{ state: string; reason: string }>)[0].reason, /no heartbeat since/);

  // Every record of `both` is gated by web1: all down, so all are served (fail open).
  assert.deepEqual(await answer('both.acme.example'), ['192.0.2.7', '192.0.2.8']);

  const t0 = Date.now();
  assert.equal((await beat()).status, 200);
  await waitFor(async () => (await answer('www.acme.example')).length === 2, 8000, 'www to serve 192.0.2.1 again');
  console.log(`# record back ${Date.now() - t0} ms after the heartbeat`);
  const hist = (await call('GET', '/v1/health-checks/web1', undefined, acme)).body.history as Array<{ state: string; reason: string }>;
  assert.deepEqual(hist.slice(0, 2).map((h) => h.state), ['up', 'down']);
  assert.equal(hist[0].reason, 'heartbeat');
});

test('zone transfers and the RRset API show every record, gated or not', async () => {
  // web1 down again (no heartbeat for max_age)
  await waitFor(async () => (await answer('www.acme.example')).length === 1, 12_000, 'web1 down again');
  // AXFR carries both www records while 192.0.2.1 is left out of answers: a secondary cannot run
  // the checks (README, Health checks).
  assert.equal((await call('PUT', '/v1/domains/acme.example/transfer', { allow: ['127.0.0.1'] }, acme)).status, 200);
  await waitFor(async () => (await xfr(s.dnsPort(), xfrQuery('acme.example', 'AXFR'))).rcode === 'NOERROR', 8000, 'AXFR allowed');
  const axfr = await xfr(s.dnsPort(), xfrQuery('acme.example', 'AXFR'));
  assert.deepEqual(axfr.records.filter((r) => r.owner === 'www.acme.example.' && r.type === 'A').map((r) => r.rdata).sort(), ['192.0.2.1', '192.0.2.2']);
  assert.deepEqual(await answer('www.acme.example'), ['192.0.2.2'], 'while the answer leaves it out');
  const rr = await call('GET', '/v1/zones/acme-web/rrsets/www/A', undefined, acme);
  assert.deepEqual(rr.body.records, ['192.0.2.1', '192.0.2.2']);
  assert.deepEqual(rr.body.health_checks, { '192.0.2.1': 'web1', '192.0.2.2': 'web2' });
  const metrics = await (await fetch(s.apiUrl() + '/metrics')).text();
  assert.match(metrics, /glidepath_health_check_up\{tenant="acme",check="web1",kind="passive"\} 0/);
  assert.match(metrics, /glidepath_health_check_up\{tenant="acme",check="web2",kind="passive"\} 1/);
  assert.match(metrics, /glidepath_health_checks\{kind="passive",state="down"\} 1/);
});
