// The largest TXT records (issue 16 review, with issue 14's rule that what cannot be served is not
// stored): a TXT whose RDATA is 65,535 octets (RFC 1035 3.2.1: RDLENGTH is 16 bits) can never be
// answered, since header, question and RR header come on top within 65,535 octets (RFC 1035
// 4.2.2), so it is refused with 422 rrset_too_large (it used to fail with a 500 on the unique key on
// rdata); a TXT as large as a DNS message can carry is stored byte for byte, exported, and served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, settle } from '../helpers/server.js';
import { query } from '../helpers/dig.js';

const s = await startTestServer();
const ADMIN = 'test-admin-token';
const call = async (method: string, path: string, body?: unknown, type = 'application/json') => {
  const r = await fetch(`${s.apiUrl()}${path}`, {
    method, headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': type }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, text: await r.text() };
};

/** Presentation form of a TXT whose RDATA is `octets` long: character-strings of 255 (RFC 1035 3.3.14). */
function txt(octets: number, fill: string): string {
  const parts: string[] = [];
  let left = octets;
  while (left > 0) {
    const n = Math.min(255, left - 1);
    parts.push(`"${fill.repeat(n)}"`);
    left -= n + 1;
  }
  return parts.join(' ');
}

await call('POST', '/v1/tenants', { name: 'big' });
const apex = [
  { owner: '@', type: 'SOA', ttl: 3600, records: ['ns1 hostmaster 1 3600 600 86400 300'] },
  { owner: '@', type: 'NS', ttl: 3600, records: ['ns1'] },
  { owner: 'ns1', type: 'A', ttl: 3600, records: ['192.0.2.53'] },
];

test('a 65,535-octet TXT is refused as unservable (422, not 500); one as large as a TCP message holds is stored, exported and served', async () => {
  const full = txt(65535, 'a');
  const servable = txt(65400, 'b');
  const refused = await call('POST', '/v1/zones?tenant=big', { name: 'toobig', rrsets: [...apex, { owner: 'full', type: 'TXT', ttl: 60, records: [full] }] });
  assert.equal(refused.status, 422, refused.text.slice(0, 300));
  assert.equal(JSON.parse(refused.text).error, 'rrset_too_large');
  const z = await call('POST', '/v1/zones?tenant=big', { name: 'bigtxt', rrsets: [...apex,
    { owner: 'served', type: 'TXT', ttl: 60, records: [servable] }] });
  assert.equal(z.status, 201, z.text.slice(0, 300));
  assert.equal((await call('POST', '/v1/domains?tenant=big', { name: 'bigtxt.example', zone: 'bigtxt' })).status, 201);
  await settle(s);
  // Stored: the whole record, byte for byte (far over the 2.7 kB a btree entry holds).
  const stored = (await s.db.pool.query("SELECT rdata FROM records WHERE owner = 'served' AND type = 16")).rows[0].rdata as string;
  assert.equal(stored, servable);
  // Two different large records in one RRset: the unique key (on md5 of rdata) tells them apart.
  const two = await call('PUT', '/v1/zones/bigtxt/rrsets/pair/TXT?tenant=big', { ttl: 60, records: [txt(32000, 'c'), txt(32000, 'd')] });
  assert.equal(two.status, 200, two.text.slice(0, 300));
  // Exported in the master file.
  const exp = await fetch(`${s.apiUrl()}/v1/zones/bigtxt/file?tenant=big`, { headers: { authorization: `Bearer ${ADMIN}` } });
  assert.equal(exp.status, 200);
  const text = await exp.text();
  assert.ok(text.includes(servable), 'the exported file holds the large record');
  // Served over TCP (RFC 7766): the answer carries all of it.
  const r = await query(s.dnsPort(), 'served.bigtxt.example.', 'TXT', { transport: 'tcp' });
  assert.equal(r.rcode, 'NOERROR');
  assert.equal(r.answer.length, 1);
  assert.ok(r.answer[0].length > 65000);
  // Over UDP: truncated, so that the client retries over TCP (RFC 1035 4.2.1).
  const u = await query(s.dnsPort(), 'served.bigtxt.example.', 'TXT');
  assert.ok(u.tc);
});
