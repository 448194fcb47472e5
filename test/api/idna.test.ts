// One rule for non-ASCII names (issue 14 item 11), over real HTTP, DNS and a real `glidepath
// import`: U-labels are stored as their A-labels (UTS #46, Node's url.domainToASCII) in domain
// names, owners, rdata names and zone files; never as raw Latin-1 octets. A label that is no valid
// U-label is a 422 in the error shape.
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
  const headers = raw !== undefined ? { ...AUTH, 'content-type': 'text/dns; charset=utf-8' } : body === undefined ? AUTH : { ...AUTH, 'content-type': 'application/json' };
  const r = await fetch(api + path, { method, headers, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)) });
  const text = await r.text();
  return { status: r.status, text, body: text ? JSON.parse(text) as Record<string, unknown> : {} };
}

/** Every stored name and rdata, as text: none may hold a character beyond ASCII. */
async function nonAscii(): Promise<string[]> {
  const { rows } = await s.db.pool.query<{ t: string }>(`SELECT name AS t FROM domains UNION ALL SELECT owner FROM records
    UNION ALL SELECT rdata FROM records`);
  return rows.map((r) => r.t).filter((t) => /[^\x00-\x7f]/.test(t));
}

const apex = [
  { owner: '@', type: 'SOA', ttl: 3600, records: ['ns1 hostmaster 1 3600 600 86400 300'] },
  { owner: '@', type: 'NS', ttl: 3600, records: ['ns1'] },
  { owner: 'ns1', type: 'A', ttl: 3600, records: ['192.0.2.53'] },
];

test('the API stores U-labels as A-labels: domain, owner and rdata names', async () => {
  assert.equal((await call('POST', '/v1/zones', { name: 'mu', rrsets: apex })).status, 201);
  const d = await call('POST', '/v1/domains', { name: 'münchen.test', zone: 'mu' });
  assert.equal(d.status, 201, d.text);
  assert.equal(d.body.name, 'xn--mnchen-3ya.test.');
  const byU = await call('GET', `/v1/domains/${encodeURIComponent('MÜNCHEN.test')}`);
  assert.equal(byU.status, 200, 'the U-label form finds it');
  const put = await call('PUT', `/v1/zones/mu/rrsets/${encodeURIComponent('bücher')}/CNAME`, { ttl: 60, records: ['straße.example.'] });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.owner, 'xn--bcher-kva');
  assert.deepEqual(put.body.records, ['xn--strae-oqa.example.']);
  assert.deepEqual(await nonAscii(), []);
  await settle(s);
  const r = await query(s.dnsPort(), 'xn--bcher-kva.xn--mnchen-3ya.test', 'CNAME');
  assert.equal(r.rcode, 'NOERROR');
  assert.equal(r.answer.length, 1);
  assert.match(r.answer[0], /xn--strae-oqa\.example\.$/);
  // Not a valid U-label (a leading combining mark): refused in the error shape, nothing stored.
  const bad = await call('POST', '/v1/domains', { name: '\u0300a.test', zone: 'mu' });
  assert.equal(bad.status, 422, bad.text);
  assert.deepEqual(Object.keys(bad.body).sort(), ['details', 'error', 'message']);
});

test('a zone file over the API: U-labels in $ORIGIN, owners and rdata become A-labels', async () => {
  assert.equal((await call('POST', '/v1/zones', { name: 'ko' })).status, 201);
  const file = '$ORIGIN köln.test.\n@ 3600 IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ 3600 IN NS ns1\n'
    + 'ns1 3600 IN A 192.0.2.53\nbühne 60 IN A 192.0.2.80\nwww 60 IN CNAME bühne\n';
  const put = await call('PUT', '/v1/zones/ko/file', undefined, file);
  assert.equal(put.status, 200, put.text);
  assert.equal((await call('POST', '/v1/domains', { name: 'xn--kln-sna.test', zone: 'ko' })).status, 201);
  assert.deepEqual(await nonAscii(), []);
  await settle(s);
  const r = await query(s.dnsPort(), 'www.xn--kln-sna.test', 'A');
  assert.deepEqual(r.answer.map((x) => x.split(/\s+/).pop()), ['xn--bhne-0ra.xn--kln-sna.test.', '192.0.2.80']);
});

test('glidepath import: the same rule for a zone file on the command line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'glidepath-idna-'));
  try {
    const path = join(dir, 'z.zone');
    writeFileSync(path, '$ORIGIN zürich.test.\n@ 3600 IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ 3600 IN NS ns1\nns1 3600 IN A 192.0.2.53\nmünze 60 IN A 192.0.2.7\n');
    const out = await runGlidepath(['import', path], s.database.url);
    assert.equal(out.code, 0, out.stderr);
    const rows = (await s.db.pool.query(`SELECT r.owner FROM records r JOIN domains d ON d.zone_id = r.zone_id
      WHERE d.name = 'xn--zrich-kva.test.' AND r.type = 1 ORDER BY r.owner`)).rows.map((x) => x.owner);
    assert.deepEqual(rows, ['xn--mnze-0ra', 'ns1'].sort());
    assert.deepEqual(await nonAscii(), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
