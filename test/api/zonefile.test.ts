// Zone files: PUT text/dns replaces a zone's records atomically, GET writes them out; errors name
// the line; 413 and 415.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, errorOf, makeZone } from './helpers.js';

const api = await startApi();
const tok = await api.tenant('zf');
await makeZone(api, 'files', tok);
await api.call('PUT', '/v1/zones/files/rrsets/old/A', { token: tok, body: { ttl: 60, records: ['192.0.2.99'] } });

const F = '/v1/zones/files/file';
const FILE = `$ORIGIN files.example.
$TTL 3600
@       IN SOA ns1 hostmaster 2024010101 3600 600 86400 300
@       IN NS  ns1
@       IN NS  ns2.example.net.
ns1     IN A   192.0.2.53
www 300 IN A   192.0.2.80
mail    IN MX  10 www.files.example.
`;
const rows = async () => (await api.db.pool.query(
  "SELECT owner, type, ttl, rdata FROM records r JOIN zones z ON z.id = r.zone_id WHERE z.name = 'files' ORDER BY owner, type, rdata")).rows;

test('PUT replaces every record with the file\'s, names relative to the origin', async () => {
  const r = await api.call('PUT', F, { token: tok, raw: FILE });
  assert.equal(r.status, 200, r.text);
  assert.equal((r.body as { records: number }).records, 6);
  const rs = await rows();
  assert.ok(!rs.some((x) => x.owner === 'old'), 'records not in the file are gone');
  assert.deepEqual(rs.find((x) => x.owner === 'www'), { owner: 'www', type: 1, ttl: 300, rdata: '192.0.2.80' });
  assert.deepEqual(rs.find((x) => x.owner === 'mail'), { owner: 'mail', type: 15, ttl: 3600, rdata: '10 www' });
  assert.equal(r.headers.etag, `"${(await api.db.pool.query("SELECT version FROM zones WHERE name = 'files'")).rows[0].version}"`);
});

test('GET writes the zone out under ?origin=, and it reads back the same', async () => {
  const g = await api.call('GET', `${F}?origin=files.example`, { token: tok });
  assert.equal(g.status, 200);
  assert.match(String(g.headers['content-type']), /^text\/dns/);
  assert.match(g.text, /^\$ORIGIN files\.example\.\n/);
  assert.match(g.text, /(^|\n)www\s+300\s+IN\s+A\s+192\.0\.2\.80\n/);
  assert.match(g.text, /SOA/);
  const before = await rows();
  const again = await api.call('PUT', `${F}?origin=files.example`, { token: tok, raw: g.text });
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(await rows(), before);
});

test('without ?origin=, the origin is the domain pointing at the zone, else the zone name', async () => {
  const plain = await api.call('GET', F, { token: tok });
  assert.match(plain.text, /^\$ORIGIN files\.\n/, 'origin "files." (the zone name)');
  assert.equal((await api.call('POST', '/v1/domains', { token: tok, body: { name: 'served.example', zone: 'files' } })).status, 201);
  const served = await api.call('GET', F, { token: tok });
  assert.match(served.text, /^\$ORIGIN served\.example\.\n/);
  assert.match(served.text, /(^|\n)www\s+300\s+IN\s+A/);
});

test('a bad line is a 422 naming it, and nothing changes', async () => {
  const before = await rows();
  const v = (await api.db.pool.query("SELECT version FROM zones WHERE name = 'files'")).rows[0].version;
  const bad = FILE.replace('www 300 IN A   192.0.2.80', 'www 300 IN A   192.0.2.800');
  const r = await api.call('PUT', F, { token: tok, raw: bad });
  assert.equal(r.status, 422);
  assert.equal(errorOf(r).error, 'zone_file_invalid');
  assert.equal(errorOf(r).details[0].path, 'line 7');
  const noSoa = await api.call('PUT', F, { token: tok, raw: FILE.split('\n').filter((l) => !l.includes('SOA')).join('\n') });
  assert.equal(noSoa.status, 422);
  assert.ok(errorOf(noSoa).details.some((d) => d.path === '@/SOA'));
  assert.deepEqual(await rows(), before);
  assert.equal((await api.db.pool.query("SELECT version FROM zones WHERE name = 'files'")).rows[0].version, v);
});

test('JSON or text/plain is a 415; over 10 MiB is a 413; a stale If-Match is 412', async () => {
  assert.equal((await api.call('PUT', F, { token: tok, body: { file: FILE } })).status, 415);
  assert.equal((await api.call('PUT', F, { token: tok, raw: FILE, type: 'text/plain' })).status, 415);
  const big = FILE + ('; ' + 'x'.repeat(1021) + '\n').repeat(10 * 1024 + 1);
  const r = await api.call('PUT', F, { token: tok, raw: big });
  assert.equal(r.status, 413);
  assert.equal(errorOf(r).error, 'payload_too_large');
  // Between 1 and 10 MiB is accepted here (the JSON limit does not apply).
  const mid = FILE + ('; ' + 'x'.repeat(1021) + '\n').repeat(2048);
  assert.equal((await api.call('PUT', F, { token: tok, raw: mid })).status, 200);
  assert.equal((await api.call('PUT', F, { token: tok, raw: FILE, headers: { 'if-match': '"1"' } })).status, 412);
});
