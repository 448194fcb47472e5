// Data that cannot be served is refused when written (issue 14 item 6): an RRset whose smallest
// answer is over 65,535 octets (RFC 1035 4.2.2) is a 422 rrset_too_large naming it, on every write
// path (RRset PUT and PATCH, zone create, zone file over the API, `glidepath import` as a real
// process), and nothing changes; one record fewer is stored and answered whole over TCP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, settle } from '../helpers/server.js';
import { query } from '../helpers/dig.js';
import { runGlidepath } from '../helpers/cli.js';

const s = await startTestServer();
const api = s.apiUrl();
const AUTH = { authorization: 'Bearer test-admin-token' };

async function call(method: string, path: string, body?: unknown, raw?: string) {
  const headers = raw !== undefined ? { ...AUTH, 'content-type': 'text/dns' } : body === undefined ? AUTH : { ...AUTH, 'content-type': 'application/json' };
  const r = await fetch(api + path, { method, headers, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)) });
  const text = await r.text();
  return { status: r.status, text, body: text ? JSON.parse(text) as { error: string; message: string; details: { path: string; problem: string }[] } : undefined };
}

const apex = [
  { owner: '@', type: 'SOA', ttl: 3600, records: ['ns1 hostmaster 1 3600 600 86400 300'] },
  { owner: '@', type: 'NS', ttl: 3600, records: ['ns1'] },
  { owner: 'ns1', type: 'A', ttl: 3600, records: ['192.0.2.53'] },
];
assert.equal((await call('POST', '/v1/zones', { name: 'sz', rrsets: apex })).status, 201);
assert.equal((await call('POST', '/v1/domains', { name: 'sz.example', zone: 'sz' })).status, 201);

const addresses = (n: number) => Array.from({ length: n }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
// "big.sz.example." is 16 octets: 12 (header) + 16 + 4 (question) + 11 (OPT) + 16 per A record
// (2 owner pointer, 10 fixed, 4 address) <= 65,535 holds for 4,093 records, not 4,094.
const FITS = 4093;
const recordCount = async () => Number((await s.db.pool.query('SELECT count(*) AS n FROM records')).rows[0].n);

function tooLarge(r: Awaited<ReturnType<typeof call>>, path: string) {
  assert.equal(r.status, 422, r.text);
  assert.equal(r.body!.error, 'rrset_too_large');
  assert.equal(r.body!.details[0].path, path);
  assert.match(r.body!.details[0].problem, /65535/);
}

test('one record too many is refused on every API write path, naming the RRset, changing nothing', async () => {
  const before = await recordCount();
  tooLarge(await call('PUT', '/v1/zones/sz/rrsets/big/A', { ttl: 60, records: addresses(FITS + 1) }), 'big/A');
  tooLarge(await call('PATCH', '/v1/zones/sz/rrsets', { changes: [{ owner: 'big', type: 'A', ttl: 60, records: addresses(60_000) }] }), 'big/A');
  tooLarge(await call('POST', '/v1/zones', { name: 'sz2', rrsets: [...apex, { owner: 'big', type: 'A', ttl: 60, records: addresses(60_000) }] }), 'big/A');
  const file = '$ORIGIN sz.example.\n@ 3600 IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ 3600 IN NS ns1\nns1 3600 IN A 192.0.2.53\n'
    + addresses(FITS + 1).map((a) => `big 60 IN A ${a}`).join('\n') + '\n';
  tooLarge(await call('PUT', '/v1/zones/sz/file', undefined, file), 'big/A');
  assert.equal(await recordCount(), before, 'nothing stored');
  assert.equal((await call('GET', '/v1/zones/sz2')).status, 404, 'no zone created');
});

test('the largest RRset that fits is stored and answered whole over TCP', async () => {
  const put = await call('PUT', '/v1/zones/sz/rrsets/big/A', { ttl: 60, records: addresses(FITS) });
  assert.equal(put.status, 200, put.text);
  await settle(s);
  const r = await query(s.dnsPort(), 'big.sz.example', 'A', { transport: 'tcp', edns: 1232 });
  assert.equal(r.tc, false);
  assert.equal(r.answer.length, FITS);
  assert.equal(r.size, 12 + 16 + 4 + 11 + 16 * FITS, 'the size the write-time check computed');
  assert.ok(r.size + 16 > 65535, 'one more record would not fit');
});

test('one large TXT record (about 65,000 octets of rdata) is stored and served', async () => {
  const strings = Array.from({ length: 254 }, (_, i) => `"${String(i % 10).repeat(255)}"`).join(' ');
  const put = await call('PUT', '/v1/zones/sz/rrsets/txt/TXT', { ttl: 60, records: [strings] });
  assert.equal(put.status, 200, put.text);
  await settle(s);
  const r = await query(s.dnsPort(), 'txt.sz.example', 'TXT', { transport: 'tcp', edns: 1232 });
  assert.equal(r.answer.length, 1);
  assert.ok(r.size > 65_000, `size ${r.size}`);
});

test('glidepath import refuses a file with an RRset too large to answer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'glidepath-size-'));
  try {
    const path = join(dir, 'big.zone');
    writeFileSync(path, '$ORIGIN big.example.\n@ 3600 IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ 3600 IN NS ns1\nns1 3600 IN A 192.0.2.53\n'
      + addresses(60_000).map((a) => `many 60 IN A ${a}`).join('\n') + '\n');
    const before = await recordCount();
    const out = await runGlidepath(['import', path], s.database.url);
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /many\/A: .*65535/);
    assert.equal(await recordCount(), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
