// The PZC routes over HTTP in a whole Glidepath: schedule, read back (seconds left, cap, warnings),
// cancel, list; RRset-level changes; the refusals; and what DNS answers after each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, settle } from '../helpers/server.js';
import { query } from '../helpers/dig.js';
import { apexSets } from './helpers.js';

const s = await startTestServer();
const ADMIN = 'test-admin-token';

async function call(method: string, path: string, body?: unknown, token = ADMIN) {
  const r = await fetch(s.apiUrl() + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test reads arbitrary JSON fields
  return { status: r.status, text, body: (text ? JSON.parse(text) : undefined) as any };
}
const iso = (secondsAhead: number) => new Date((Math.floor(Date.now() / 1000) + secondsAhead) * 1000).toISOString().replace('.000Z', 'Z');

// Zone "a" served by a.example (www A 192.0.2.80, TTL 3600), zone "b" with www A 198.51.100.80.
assert.equal((await call('POST', '/v1/zones', { name: 'a', rrsets: [...apexSets(1), { owner: 'www', type: 'A', ttl: 3600, records: ['192.0.2.80'] }] })).status, 201);
assert.equal((await call('POST', '/v1/zones', { name: 'b', rrsets: [...apexSets(1), { owner: 'www', type: 'A', ttl: 300, records: ['198.51.100.80'] }] })).status, 201);
assert.equal((await call('POST', '/v1/domains', { name: 'a.example', zone: 'a' })).status, 201);
await settle(s);

test('PUT schedules a switch: seconds left, the cap, a warning naming the largest TTL; DNS caps TTLs at once', async () => {
  const at = iso(120);
  const r = await call('PUT', '/v1/domains/a.example/pzc', { zone: 'b', at });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.domain, 'a.example.');
  assert.equal(r.body.from_zone, 'a');
  assert.equal(r.body.zone, 'b');
  assert.equal(r.body.at, new Date(at).toISOString());
  assert.ok(r.body.seconds_left > 110 && r.body.seconds_left <= 120, String(r.body.seconds_left));
  assert.equal(r.body.cap, r.body.seconds_left);
  assert.equal(r.body.max_ttl, 3600);
  assert.equal(r.body.applied, false);
  assert.equal(r.body.warnings.length, 1);
  assert.match(r.body.warnings[0].message, /3600 s/);
  assert.ok(new Date(r.body.clean_from).getTime() > new Date(at).getTime());

  const g = await call('GET', '/v1/domains/a.example./pzc');
  assert.equal(g.status, 200);
  assert.equal(g.body.zone, 'b');
  assert.ok(g.body.seconds_left <= 120);
  assert.equal((await call('GET', '/v1/domains/a.example')).body.pzc.zone, 'b');

  await settle(s);
  const www = await query(s.dnsPort(), 'www.a.example', 'A');
  assert.equal(www.records[0].rdata, '192.0.2.80', 'zone A until T');
  for (const rec of www.records) assert.ok(rec.ttl <= 120, `${rec.type} TTL ${rec.ttl} capped`);
  const nx = await query(s.dnsPort(), 'nothing.a.example', 'A');
  assert.equal(nx.rcode, 'NXDOMAIN');
  assert.ok(nx.authority.length === 1 && nx.records[0].ttl <= 120, 'the negative answer is capped too');
});

test('a switch far enough ahead carries no warning', async () => {
  const r = await call('PUT', '/v1/domains/a.example/pzc', { zone: 'b', at: iso(7200) });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.warnings, []);
});

test('GET /v1/pzc lists upcoming switches, and ?before= filters them', async () => {
  const all = await call('GET', '/v1/pzc');
  assert.equal(all.status, 200);
  assert.deepEqual(all.body.switches.map((x: { domain: string }) => x.domain), ['a.example.']);
  const none = await call('GET', `/v1/pzc?before=${encodeURIComponent(iso(60))}`);
  assert.deepEqual(none.body.switches, []);
  assert.equal((await call('GET', '/v1/pzc?before=soon')).status, 422);
});

test('refusals: unknown target, the zone already served, an unservable target, fractions of a second, unknown fields', async () => {
  let r = await call('PUT', '/v1/domains/a.example/pzc', { zone: 'nope', at: iso(60) });
  assert.equal(r.status, 404);
  r = await call('PUT', '/v1/domains/a.example/pzc', { zone: 'a', at: iso(60) });
  assert.equal(r.status, 422);
  assert.equal(r.body.details[0].path, 'zone');
  assert.equal((await call('POST', '/v1/zones', { name: 'bare' })).status, 201);
  r = await call('PUT', '/v1/domains/a.example/pzc', { zone: 'bare', at: iso(60) });
  assert.equal(r.status, 422, 'a target without SOA and NS is refused');
  r = await call('PUT', '/v1/domains/a.example/pzc', { zone: 'b', at: '2030-01-01T00:00:00.500Z' });
  assert.equal(r.status, 422);
  assert.equal(r.body.details[0].path, 'at');
  r = await call('PUT', '/v1/domains/a.example/pzc', { zone: 'b', at: iso(60), extra: 1 });
  assert.equal(r.status, 400);
  r = await call('PUT', '/v1/domains/nope.example/pzc', { zone: 'b', at: iso(60) });
  assert.equal(r.status, 404);
  // None of that changed the pending switch.
  assert.equal((await call('GET', '/v1/domains/a.example/pzc')).body.zone, 'b');
});

test('the target zone cannot be deleted or emptied of its apex while a switch points at it', async () => {
  let r = await call('DELETE', '/v1/zones/b');
  assert.equal(r.status, 409);
  r = await call('DELETE', '/v1/zones/b/rrsets/@/NS');
  assert.equal(r.status, 422);
  r = await call('GET', '/v1/zones/b/rrsets/@/NS');
  assert.equal(r.status, 200, 'still there');
});

test('another tenant can neither see, schedule, cancel, nor target the zones of this one', async () => {
  assert.equal((await call('POST', '/v1/tenants', { name: 'other' })).status, 201);
  const tok = (await call('POST', '/v1/tenants/other/tokens', {})).body.token as string;
  assert.equal((await call('GET', '/v1/domains/a.example/pzc', undefined, tok)).status, 404);
  assert.equal((await call('DELETE', '/v1/domains/a.example/pzc', undefined, tok)).status, 404);
  assert.equal((await call('PUT', '/v1/domains/a.example/pzc', { zone: 'b', at: iso(60) }, tok)).status, 404);
  assert.deepEqual((await call('GET', '/v1/pzc', undefined, tok)).body, { switches: [], rrsets: [] });
  // Its own domain cannot switch to the first tenant's zone.
  assert.equal((await call('POST', '/v1/zones', { name: 'mine', rrsets: apexSets(1) }, tok)).status, 201);
  assert.equal((await call('POST', '/v1/domains', { name: 'mine.example', zone: 'mine' }, tok)).status, 201);
  assert.equal((await call('PUT', '/v1/domains/mine.example/pzc', { zone: 'b', at: iso(60) }, tok)).status, 404);
});

test('DELETE cancels: normal TTLs at once, GET is then 404', async () => {
  const r = await call('DELETE', '/v1/domains/a.example/pzc');
  assert.equal(r.status, 204);
  assert.equal((await call('GET', '/v1/domains/a.example/pzc')).status, 404);
  assert.equal((await call('DELETE', '/v1/domains/a.example/pzc')).status, 404);
  await settle(s);
  assert.deepEqual((await query(s.dnsPort(), 'www.a.example', 'A')).answer, ['www.a.example. A 3600 192.0.2.80']);
});

test('a time already past is applied at once: zone B is served, the serial went up, the journal holds it', async () => {
  const before = (await call('GET', '/v1/domains/a.example')).body.serial as number;
  const r = await call('PUT', '/v1/domains/a.example/pzc', { zone: 'b', at: iso(-10) });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.applied, true);
  assert.equal(r.body.cap, null);
  const d = (await call('GET', '/v1/domains/a.example')).body;
  assert.equal(d.zone, 'b');
  assert.equal(d.pzc, null);
  assert.ok(d.serial > before);
  await settle(s);
  assert.deepEqual((await query(s.dnsPort(), 'www.a.example', 'A')).answer, ['www.a.example. A 300 198.51.100.80']);
  const j = (await call('GET', '/v1/domains/a.example/changes')).body.changes as Array<{ actor: string; action: string }>;
  assert.ok(j.some((c) => c.actor === 'admin-token' && c.action === 'update'), JSON.stringify(j.map((c) => c.action)));
});

test('RRset-level: schedule, cap on the RRset and on negative answers for it, list, cancel; past is applied at once', async () => {
  // Zone b now serves a.example. At T (90 s ahead) www A becomes 203.0.113.9, and new TXT appears.
  let r = await call('PUT', '/v1/zones/b/scheduled-rrsets/www/A', { ttl: 600, records: ['203.0.113.9'], at: iso(90) });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.owner, 'www');
  assert.equal(r.body.type, 'A');
  assert.deepEqual(r.body.records, ['203.0.113.9']);
  assert.equal(r.body.max_ttl, 300, 'what caches may hold of www A now');
  assert.match(r.body.warnings[0].message, /300 s/, 'TTL 300 outlives a change 90 s ahead');
  assert.equal((await call('PUT', '/v1/zones/b/scheduled-rrsets/www/TXT', { ttl: 60, records: ['"new"'], at: iso(90) })).status, 200);
  await settle(s);
  const www = await query(s.dnsPort(), 'www.a.example', 'A');
  assert.equal(www.records[0].rdata, '198.51.100.80', 'the old RRset until T');
  assert.ok(www.records[0].ttl <= 90, `www A TTL ${www.records[0].ttl} capped`);
  const nodata = await query(s.dnsPort(), 'www.a.example', 'TXT');
  assert.equal(nodata.answer.length, 0);
  assert.ok(nodata.records[0].ttl <= 90, 'the NODATA for the scheduled TXT is capped');
  const ns = await query(s.dnsPort(), 'a.example', 'NS');
  assert.equal(ns.records[0].ttl, 3600, 'what does not change keeps its TTL');

  const g = await call('GET', '/v1/zones/b/scheduled-rrsets/www/A');
  assert.equal(g.status, 200);
  assert.ok(g.body.seconds_left <= 90);
  const list = await call('GET', '/v1/pzc');
  assert.deepEqual(list.body.rrsets.map((x: { owner: string; type: string }) => `${x.owner}/${x.type}`).sort(), ['www/A', 'www/TXT']);

  // A CNAME at www beside the A is refused at scheduling time, and nothing is stored.
  r = await call('PUT', '/v1/zones/b/scheduled-rrsets/www/CNAME', { ttl: 60, records: ['elsewhere.example.'], at: iso(90) });
  assert.equal(r.status, 422, r.text);
  assert.equal((await call('GET', '/v1/zones/b/scheduled-rrsets/www/CNAME')).status, 404);
  r = await call('PUT', '/v1/zones/b/scheduled-rrsets/www/A', { ttl: 600, records: ['192.0.2.999'], at: iso(90) });
  assert.equal(r.status, 422, 'rdata is validated');

  assert.equal((await call('DELETE', '/v1/zones/b/scheduled-rrsets/www/TXT')).status, 204);
  assert.equal((await call('GET', '/v1/zones/b/scheduled-rrsets/www/TXT')).status, 404);
  await settle(s);
  assert.ok((await query(s.dnsPort(), 'www.a.example', 'TXT')).records[0].ttl > 90, 'cancelled: the normal negative TTL again');

  // A time already past: written now, the pending change for the RRset is superseded.
  r = await call('PUT', '/v1/zones/b/scheduled-rrsets/www/A', { ttl: 120, records: ['203.0.113.10'], at: iso(-1) });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.applied, true);
  assert.equal((await call('GET', '/v1/zones/b/scheduled-rrsets/www/A')).status, 404);
  await settle(s);
  assert.deepEqual((await query(s.dnsPort(), 'www.a.example', 'A')).answer, ['www.a.example. A 120 203.0.113.10']);
});
