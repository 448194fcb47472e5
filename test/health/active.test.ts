// Active health checks end to end (issue 20): a local TCP server and a local HTTP server go down
// and up; the checker (primary side) runs each check every second, the state turns only after the
// thresholds (2 failures, 2 successes in a row), and the gated records leave and return in real
// UDP answers. Generous time bounds; the latencies seen are printed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { startTestServer, waitFor, settle } from '../helpers/server.js';
import { query } from '../helpers/dig.js';

// The local servers below are on loopback, which active checks may not reach by default
// (src/health/targets.ts): allowed here as an operator would with GLIDEPATH_HEALTH_ALLOW.
const s = await startTestServer({ healthAllow: ['127.0.0.0/8'] });
const ADMIN = 'test-admin-token';

async function call(method: string, path: string, body?: unknown) {
  const r = await fetch(s.apiUrl() + path, {
    method, headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) as Record<string, unknown> : {} };
}

// A TCP server that can be closed and reopened on the same port.
let tcp: net.Server | undefined;
const openTcp = (port = 0) => new Promise<number>((resolve) => {
  tcp = net.createServer((c) => c.end());
  tcp.listen(port, '127.0.0.1', () => resolve((tcp!.address() as net.AddressInfo).port));
});
const closeTcp = () => new Promise<void>((resolve) => tcp!.close(() => resolve()));
const tcpPort = await openTcp();

// An HTTP server whose health answer can be switched between 200 and 503.
let healthy = true;
const web = http.createServer((req, res) => { res.writeHead(req.url === '/health' && healthy ? 200 : 503); res.end(); });
await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
const webPort = (web.address() as net.AddressInfo).port;
after(async () => {
  web.closeAllConnections();
  await new Promise((r) => web.close(r));
  if (tcp?.listening) await closeTcp();
});

const settings = { interval: 1, timeout_ms: 500, up_threshold: 2, down_threshold: 2 };
assert.equal((await call('POST', '/v1/health-checks', { name: 'tcp-a', kind: 'tcp', target: `127.0.0.1:${tcpPort}`, ...settings })).status, 201);
const h = await call('POST', '/v1/health-checks', { name: 'http-a', kind: 'http', target: `http://127.0.0.1:${webPort}/health`, ...settings });
assert.equal(h.status, 201);
assert.equal(h.body.expected_status, 200);
assert.equal((await call('POST', '/v1/zones', {
  name: 'svc', rrsets: [
    { owner: '@', type: 'SOA', ttl: 3600, records: ['ns1 hostmaster 1 3600 600 604800 300'] },
    { owner: '@', type: 'NS', ttl: 3600, records: ['ns1'] },
    { owner: 'ns1', type: 'A', ttl: 3600, records: ['192.0.2.53'] },
    { owner: 'tcp', type: 'A', ttl: 10, records: ['192.0.2.11', '192.0.2.12'] },
    { owner: 'web', type: 'A', ttl: 10, records: ['192.0.2.21', '192.0.2.22'] },
  ],
})).status, 201);
assert.equal((await call('PATCH', '/v1/zones/svc/rrsets', {
  changes: [
    { owner: 'tcp', type: 'A', ttl: 10, records: ['192.0.2.11', '192.0.2.12'], health_checks: { '192.0.2.11': 'tcp-a' } },
    { owner: 'web', type: 'A', ttl: 10, records: ['192.0.2.21', '192.0.2.22'], health_checks: { '192.0.2.21': 'http-a' } },
  ],
})).status, 200);
assert.equal((await call('POST', '/v1/domains', { name: 'svc.example', zone: 'svc' })).status, 201);
await settle(s);

async function answer(name: string): Promise<string[]> {
  const r = await query(s.dnsPort(), name, 'A', { timeoutMs: 2000, tries: 3 });
  return r.answer.map((a) => a.split(' ').pop()!).sort();
}

/** Polls the check until it is `state`; true if it was ever seen failing while still the other
 *  state (the threshold holding it). */
async function untilState(name: string, state: string, ms: number): Promise<boolean> {
  let held = false;
  await waitFor(async () => {
    const c = (await call('GET', `/v1/health-checks/${name}`)).body;
    const failing = /ECONNREFUSED|expected|no connection|no answer/.test(String(c.last_result));
    if (c.state !== state && (state === 'down' ? failing : !failing && c.last_result !== null)) held = true;
    return c.state === state;
  }, ms, `${name} ${state}`);
  return held;
}

test('a TCP check: the server stops, the record leaves after two failures; it returns, and so does the record', async () => {
  await waitFor(async () => (await call('GET', '/v1/health-checks/tcp-a')).body.last_result !== null, 5000, 'a first run');
  assert.deepEqual(await answer('tcp.svc.example'), ['192.0.2.11', '192.0.2.12']);
  const t0 = Date.now();
  await closeTcp();
  const held = await untilState('tcp-a', 'down', 10_000);
  assert.ok(held, 'one failure did not turn it down (down_threshold 2)');
  await waitFor(async () => (await answer('tcp.svc.example')).length === 1, 5000, 'the record to leave');
  console.log(`# tcp: record left ${Date.now() - t0} ms after the server stopped (2 runs 1 s apart)`);
  assert.deepEqual(await answer('tcp.svc.example'), ['192.0.2.12']);
  const t1 = Date.now();
  await openTcp(tcpPort);
  const heldUp = await untilState('tcp-a', 'up', 10_000);
  assert.ok(heldUp, 'one success did not turn it up (up_threshold 2)');
  await waitFor(async () => (await answer('tcp.svc.example')).length === 2, 5000, 'the record to return');
  console.log(`# tcp: record back ${Date.now() - t1} ms after the server returned`);
  const hist = (await call('GET', '/v1/health-checks/tcp-a')).body.history as Array<{ state: string; reason: string }>;
  assert.deepEqual(hist.slice(0, 2).map((x) => x.state), ['up', 'down']);
  assert.match(hist[1].reason, /^2 failed in a row: tcp 127\.0\.0\.1:\d+: ECONNREFUSED/);
  assert.match(hist[0].reason, /^2 succeeded in a row/);
});

test('an HTTP check: a 503 is a failure (expected 200); the record leaves and returns', async () => {
  assert.deepEqual(await answer('web.svc.example'), ['192.0.2.21', '192.0.2.22']);
  healthy = false;
  const t0 = Date.now();
  await untilState('http-a', 'down', 10_000);
  await waitFor(async () => (await answer('web.svc.example')).length === 1, 5000, 'the record to leave');
  console.log(`# http: record left ${Date.now() - t0} ms after the server answered 503`);
  assert.match(String((await call('GET', '/v1/health-checks/http-a')).body.last_result), /503 \(expected 200\)/);
  healthy = true;
  await untilState('http-a', 'up', 10_000);
  await waitFor(async () => (await answer('web.svc.example')).length === 2, 5000, 'the record to return');
  const metrics = await (await fetch(s.apiUrl() + '/metrics')).text();
  assert.match(metrics, /glidepath_health_check_runs_total\{kind="http",outcome="failure"\} [1-9]/);
  assert.match(metrics, /glidepath_health_check_runs_total\{kind="tcp",outcome="success"\} [1-9]/);
});

test('each run happens once per interval however many servers share the database', async () => {
  // A second full server on the same database: it runs a checker too. Runs are claimed, so the
  // check is still run about once a second, not twice.
  const { startServer } = await import('../../src/main.js');
  const { createLogger } = await import('../../src/log.js');
  const second = await startServer({ databaseUrl: s.database.url, dns: [{ host: '127.0.0.1', port: 0 }], api: null, log: createLogger('silent'), healthAllow: ['127.0.0.0/8'] });
  try {
    const before = (await s.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM health_checks')).rows[0].n;
    assert.equal(before, 2);
    // Count runs by watching last_checked_at move over 5 s.
    const seen = new Set<string>();
    const end = Date.now() + 5000;
    while (Date.now() < end) {
      const r = await s.db.pool.query<{ t: Date }>("SELECT last_checked_at AS t FROM health_checks WHERE name = 'tcp-a'");
      seen.add(r.rows[0].t.toISOString());
      await new Promise((x) => setTimeout(x, 20));
    }
    console.log(`# runs seen in 5 s with two servers: ${seen.size}`);
    assert.ok(seen.size >= 3 && seen.size <= 7, `about one run a second, not two: ${seen.size}`);
  } finally {
    await second.stop();
  }
});
