// Delegation-only domains (a TLD or registry): below the apex only NS delegations (with DS) and the
// addresses of name servers that some NS record names; anything else is refused when written,
// naming the record, and nothing changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, errorOf } from './helpers.js';

const api = await startApi();
const rrsets = [
  { owner: '@', type: 'SOA', ttl: 3600, records: ['a.nic hostmaster 1 3600 600 86400 300'] },
  { owner: '@', type: 'NS', ttl: 3600, records: ['a.nic', 'b.nic.other.example.'] },
  { owner: 'a.nic', type: 'A', ttl: 3600, records: ['192.0.2.1'] },
  { owner: 'site1', type: 'NS', ttl: 3600, records: ['ns.site1', 'ns2.hoster.example.'] },
  { owner: 'ns.site1', type: 'A', ttl: 3600, records: ['203.0.113.101'] },
  { owner: 'site1', type: 'DS', ttl: 3600, records: ['12345 13 2 ' + 'ab'.repeat(32)] },
];
assert.equal((await api.call('POST', '/v1/zones', { body: { name: 'tld', rrsets } })).status, 201);
assert.equal((await api.call('POST', '/v1/domains', { body: { name: 'tld', zone: 'tld', delegation_only: true } })).status, 201);

const count = async () => (await api.db.pool.query("SELECT count(*)::int AS n FROM records r JOIN zones z ON z.id = r.zone_id WHERE z.name = 'tld'")).rows[0].n;

test('delegations, DS at a cut and name-server addresses are accepted', async () => {
  const r = await api.call('PATCH', '/v1/zones/tld/rrsets', { body: { changes: [
    { owner: 'site2', type: 'NS', ttl: 3600, records: ['ns.site2'] },
    { owner: 'ns.site2', type: 'AAAA', ttl: 3600, records: ['2001:db8::2'] },
  ] } });
  assert.equal(r.status, 200, r.text);
});

test('other data below the apex is refused with the record named, and nothing changes', async () => {
  const before = await count();
  const cases: Array<[string, string, string[], string]> = [
    ['www', 'A', ['192.0.2.80'], 'www/A'], // an address no NS names
    ['site1', 'TXT', ['"hello"'], 'site1/TXT'],
    ['mail', 'MX', ['10 mx.other.example.'], 'mail/MX'],
    ['*', 'A', ['192.0.2.9'], '*'],
    ['alias', 'CNAME', ['site1'], 'alias/CNAME'],
  ];
  for (const [owner, type, records, path] of cases) {
    const r = await api.call('PUT', `/v1/zones/tld/rrsets/${encodeURIComponent(owner)}/${type}`, { body: { ttl: 60, records } });
    assert.equal(r.status, 422, `${owner} ${type}: ${r.text}`);
    const e = errorOf(r);
    assert.ok(e.details.some((d) => d.path === path && /delegation-only/.test(d.problem)), JSON.stringify(e.details));
  }
  // DS without the NS beside it is not a delegation.
  const ds = await api.call('PUT', '/v1/zones/tld/rrsets/nocut/DS', { body: { ttl: 60, records: ['1 13 2 ' + 'cd'.repeat(32)] } });
  assert.equal(ds.status, 422);
  assert.equal(await count(), before);
});

test('a zone file upload with one bad record is refused whole', async () => {
  const before = await count();
  const file = `$ORIGIN tld.
@ 3600 SOA a.nic hostmaster 2 3600 600 86400 300
@ 3600 NS a.nic
a.nic 3600 A 192.0.2.1
site9 3600 NS ns.site9
ns.site9 3600 A 203.0.113.109
www 3600 A 192.0.2.80
`;
  const r = await api.call('PUT', '/v1/zones/tld/file', { raw: file });
  assert.equal(r.status, 422, r.text);
  assert.ok(errorOf(r).details.some((d) => d.path === 'www/A'));
  assert.equal(await count(), before);
});

test('removing the NS that names a name server leaves its address orphaned: refused', async () => {
  const r = await api.call('DELETE', '/v1/zones/tld/rrsets/site2/NS');
  assert.equal(r.status, 422, r.text);
  assert.ok(errorOf(r).details.some((d) => d.path === 'ns.site2/AAAA'));
});
