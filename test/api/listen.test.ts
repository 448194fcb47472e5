// The API over a real socket (fetch), inside a whole Glidepath: changes made through it are what
// the DNS side answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, settle } from '../helpers/server.js';
import { query } from '../helpers/dig.js';
import { apexSets } from './helpers.js';

const s = await startTestServer();
const auth = { authorization: 'Bearer test-admin-token' };

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(s.apiUrl() + path, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, body: text ? JSON.parse(text) as unknown : undefined };
}

test('readyz over HTTP, and 401 without a token', async () => {
  const r = await fetch(s.apiUrl() + '/readyz');
  assert.equal(r.status, 200);
  const u = await fetch(s.apiUrl() + '/v1/zones');
  assert.equal(u.status, 401);
  assert.equal(((await u.json()) as { error: string }).error, 'unauthorized');
});

test('zone, domain and RRset changes made over HTTP are served over DNS', async () => {
  assert.equal((await call('POST', '/v1/zones', { name: 'live', rrsets: apexSets(10) })).status, 201);
  assert.equal((await call('PUT', '/v1/zones/live/rrsets/www/A', { ttl: 120, records: ['192.0.2.10'] })).status, 200);
  assert.equal((await call('POST', '/v1/domains', { name: 'live.example', zone: 'live' })).status, 201);
  await settle(s);
  let r = await query(s.dnsPort(), 'www.live.example', 'A');
  assert.equal(r.rcode, 'NOERROR');
  assert.ok(r.aa);
  assert.deepEqual(r.answer, ['www.live.example. A 120 192.0.2.10']);

  const etag = (await call('GET', '/v1/zones/live')).headers.get('etag')!;
  const p = await call('PATCH', '/v1/zones/live/rrsets', { changes: [
    { owner: 'www', type: 'A', ttl: 60, records: ['192.0.2.11', '192.0.2.12'] },
    { owner: 'mail', type: 'MX', ttl: 60, records: ['10 www'] },
  ] }, { 'if-match': etag });
  assert.equal(p.status, 200, p.text);
  await settle(s);
  r = await query(s.dnsPort(), 'www.live.example', 'A', { transport: 'tcp' });
  assert.deepEqual(r.answer.sort(), ['www.live.example. A 60 192.0.2.11', 'www.live.example. A 60 192.0.2.12']);
  r = await query(s.dnsPort(), 'live.example', 'MX');
  assert.deepEqual(r.answer, []);
  r = await query(s.dnsPort(), 'mail.live.example', 'MX');
  assert.deepEqual(r.answer, ['mail.live.example. MX 60 10 www.live.example.']);

  // A rejected batch changes nothing on the wire either.
  const bad = await call('PATCH', '/v1/zones/live/rrsets', { changes: [
    { owner: 'www', type: 'A', delete: true }, { owner: 'www', type: 'CNAME', ttl: 60, records: ['x.'] }, { owner: 'www', type: 'TXT', ttl: 60, records: ['"y"'] },
  ] });
  assert.equal(bad.status, 422);
  await settle(s);
  r = await query(s.dnsPort(), 'www.live.example', 'A');
  assert.equal(r.answer.length, 2);

  assert.equal((await call('DELETE', '/v1/domains/live.example')).status, 204);
  await settle(s);
  r = await query(s.dnsPort(), 'www.live.example', 'A');
  assert.notEqual(r.rcode, 'NOERROR');
  assert.deepEqual(r.answer, []);
});

test('/metrics counts the DNS queries by type and rcode, with a latency histogram, snapshot age and journal lag', async () => {
  await query(s.dnsPort(), 'nothing.example', 'AAAA');
  const text = await (await fetch(s.apiUrl() + '/metrics')).text();
  const value = (re: RegExp) => Number(re.exec(text)?.[1]);
  assert.ok(value(/^glidepath_dns_queries_total\{qtype="A",rcode="NOERROR"\} (\d+)$/m) >= 3, text);
  assert.ok(value(/^glidepath_dns_queries_total\{qtype="AAAA",rcode="REFUSED"\} (\d+)$/m) >= 1);
  const count = value(/^glidepath_dns_handle_seconds_count (\d+)$/m);
  assert.ok(count >= 5);
  assert.equal(value(/^glidepath_dns_handle_seconds_bucket\{le="\+Inf"\} (\d+)$/m), count);
  assert.ok(value(/^glidepath_snapshot_age_seconds ([\d.]+)$/m) >= 0);
  assert.equal(value(/^glidepath_journal_lag (\d+)$/m), 0);
  assert.match(text, /^glidepath_api_request_duration_seconds_bucket/m);
});
