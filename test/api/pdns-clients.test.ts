// Replays of what real PowerDNS-API clients send (shared/design/powerdns-api-clients.md): the
// request shapes of external-dns, octoDNS, DNSControl and terraform, with their headers, and what
// each needs back (status codes, ids, strict enum decoding, byte-exact content).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Api, type Res } from './helpers.js';

const S = '/api/v1/servers/localhost';
const JSON_CT = { 'content-type': 'application/json' };

/** DNSControl (mittwald/go-powerdns) decodes these strictly: anything else fails the run. */
const KINDS = ['Native', 'Master', 'Slave', 'Producer', 'Consumer'];
const SOA_EDIT_API = ['DEFAULT', 'INCREASE', 'EPOCH', 'SOA-EDIT', 'SOA-EDIT-INCREASE', 'NONE'];

async function send(api: Api, method: string, url: string, key: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
  const h = { 'X-API-Key': key, ...headers };
  return body === undefined ? api.call(method, url, { token: null, headers: h }) : api.call(method, url, { token: null, headers: h, body });
}

type Zone = { id: string; name: string; kind: string; account: string; soa_edit_api: string; masters: string[]; serial: number;
  rrsets: { name: string; type: string; ttl: number; records: { content: string; disabled: boolean }[] }[] };
const contents = (z: Zone, name: string, type: string) => z.rrsets.find((r) => r.name === name && r.type === type)?.records.map((r) => r.content) ?? [];

test('client replays', async (t) => {
  const api = await startApi();
  const key = await api.tenant('hoster');

  await t.test('terraform (pan-net): discovery, POST 201 with its id, GET, PUT 204, PATCH, DELETE 204 with an empty JSON body', async () => {
    const servers = await send(api, 'GET', '/api/v1/servers', key);
    assert.equal(servers.status, 200); // anything else switches terraform to legacy paths
    const server = await send(api, 'GET', S, key);
    assert.equal(server.status, 200);
    assert.equal(typeof (server.body as { version: string }).version, 'string');
    const create = await send(api, 'POST', `${S}/zones`, key, {
      id: '', name: 'tf.example.', url: '', kind: 'Native', dnsssec: false, serial: 0, account: 'admin',
      nameservers: ['ns1.tf.example.', 'ns2.tf.example.'], masters: [], soa_edit_api: '',
    }, JSON_CT);
    assert.equal(create.status, 201, create.text);
    const z = create.body as Zone;
    assert.equal(z.id, 'tf.example.');
    assert.deepEqual([z.name, z.kind, z.account, z.soa_edit_api, z.masters], ['tf.example.', 'Native', 'admin', '', []]);
    const got = (await send(api, 'GET', `${S}/zones/${z.id}`, key)).body as Zone;
    assert.deepEqual(contents(got, 'tf.example.', 'NS'), ['ns1.tf.example.', 'ns2.tf.example.']);
    assert.equal(got.account, 'admin');
    const put = await send(api, 'PUT', `${S}/zones/${z.id}`, key, { name: 'tf.example.', kind: 'Master', account: 'admin', soa_edit_api: 'DEFAULT' }, JSON_CT);
    assert.equal(put.status, 204, put.text);
    assert.equal(((await send(api, 'GET', `${S}/zones/${z.id}`, key)).body as Zone).kind, 'Master');
    // powerdns_record: the zone given without its dot, records carrying name/type/ttl/set-ptr.
    const patch = await send(api, 'PATCH', `${S}/zones/tf.example`, key, { rrsets: [{
      name: 'www.tf.example.', type: 'A', ttl: 300, changetype: 'REPLACE',
      records: [{ content: '192.0.2.1', disabled: false, name: 'www.tf.example.', type: 'A', ttl: 300, 'set-ptr': false }],
    }] }, JSON_CT);
    assert.ok([200, 204].includes(patch.status), patch.text);
    assert.deepEqual(contents((await send(api, 'GET', `${S}/zones/tf.example.`, key)).body as Zone, 'www.tf.example.', 'A'), ['192.0.2.1']);
    const del = await send(api, 'DELETE', `${S}/zones/${z.id}`, key, undefined, JSON_CT);
    assert.equal(del.status, 204, del.text);
    assert.equal((await send(api, 'GET', `${S}/zones/${z.id}`, key)).status, 404);
  });

  await t.test('octoDNS: version parse, 404 then create (lower-case kind, "default"), DELETE-before-REPLACE PATCH, TXT [1:-1]', async () => {
    const version = ((await send(api, 'GET', S, key)).body as { version: string }).version;
    const parts = version.split('.').slice(0, 3).map((p) => Number.parseInt(p.split('-')[0], 10));
    assert.ok(parts.every((n) => Number.isInteger(n)), version);
    assert.ok(parts[0] > 4 || (parts[0] === 4 && parts[1] >= 2), `octoDNS takes 404 as "absent" only from 4.2: ${version}`);
    const enc = encodeURIComponent('octo.example.').replace(/%/g, '=');
    assert.equal((await send(api, 'GET', `${S}/zones/${enc}`, key)).status, 404);
    const mods = [
      { name: 'octo.example.', type: 'NS', ttl: 3600, changetype: 'REPLACE', records: [{ content: 'ns1.octo.example.', disabled: false }] },
      { name: 'txt.octo.example.', type: 'TXT', ttl: 300, changetype: 'REPLACE', records: [{ content: '"v=spf1 -all"', disabled: false }] },
      { name: 'a.octo.example.', type: 'A', ttl: 300, changetype: 'REPLACE', records: [{ content: '192.0.2.5', disabled: false }] },
    ];
    const create = await send(api, 'POST', `${S}/zones`, key, { name: 'octo.example.', kind: 'master', masters: [], nameservers: [], rrsets: mods, soa_edit_api: 'default', serial: 0 }, JSON_CT);
    assert.equal(create.status, 201, create.text);
    assert.deepEqual([(create.body as Zone).kind, (create.body as Zone).soa_edit_api], ['Master', 'DEFAULT']);
    const patch = await send(api, 'PATCH', `${S}/zones/${enc}`, key, { rrsets: [
      { name: 'a.octo.example.', type: 'A', ttl: 300, changetype: 'DELETE', records: [{ content: '192.0.2.5', disabled: false }] },
      { name: 'a.octo.example.', type: 'CNAME', ttl: 300, changetype: 'REPLACE', records: [{ content: 'txt.octo.example.', disabled: false }] },
      { name: 'txt.octo.example.', type: 'TXT', ttl: 600, changetype: 'REPLACE', records: [{ content: '"v=spf1 include:_spf.example.net -all"', disabled: false }] },
    ] }, JSON_CT);
    assert.equal(patch.status, 204, patch.text);
    const z = (await send(api, 'GET', `${S}/zones/${enc}`, key)).body as Zone;
    const txt = contents(z, 'txt.octo.example.', 'TXT')[0];
    assert.equal(txt.slice(1, -1), 'v=spf1 include:_spf.example.net -all');
    assert.deepEqual(contents(z, 'a.octo.example.', 'CNAME'), ['txt.octo.example.']);
    assert.equal((await send(api, 'PUT', `${S}/zones/${enc}/notify`, key)).status, 200);
  });

  await t.test('DNSControl: strict enums on every listed zone, create with type Zone, two PATCHes (DELETEs with nulls, then REPLACEs)', async () => {
    // A domain made through the native API has no PowerDNS metadata: it must still decode.
    await api.call('POST', '/v1/zones', { token: key, body: { name: 'native', rrsets: [
      { owner: '@', type: 'SOA', ttl: 3600, records: ['ns1 hostmaster 1 3600 600 86400 300'] },
      { owner: '@', type: 'NS', ttl: 3600, records: ['ns1'] }, { owner: 'ns1', type: 'A', ttl: 3600, records: ['192.0.2.53'] }] } });
    await api.call('POST', '/v1/domains', { token: key, body: { name: 'native.example', zone: 'native' } });
    const create = await send(api, 'POST', `${S}/zones`, key, { name: 'dnsc.example.', type: 'Zone', kind: 'Native', nameservers: ['ns1.example.net.', 'ns2.example.net.'] }, JSON_CT);
    assert.equal(create.status, 201, create.text);
    const list = (await send(api, 'GET', `${S}/zones`, key)).body as Zone[];
    assert.ok(list.length >= 2);
    for (const z of list) assert.ok(KINDS.includes(z.kind), `${z.name} kind ${z.kind}`);
    for (const z of list) {
      const full = (await send(api, 'GET', `${S}/zones/${z.name}`, key)).body as Zone;
      assert.ok(SOA_EDIT_API.includes(full.soa_edit_api), `${z.name} soa_edit_api "${full.soa_edit_api}"`);
      assert.ok(full.rrsets.some((r) => r.type === 'SOA'), 'DNSControl reads the SOA too');
    }
    // The native domain's relative names come back absolute.
    const native = (await send(api, 'GET', `${S}/zones/native.example.`, key)).body as Zone;
    assert.deepEqual(contents(native, 'native.example.', 'NS'), ['ns1.native.example.']);
    const replace = { name: '', type: 'Zone', nameservers: [], rrsets: [
      { name: 'mx.dnsc.example.', type: 'MX', ttl: 300, changetype: 'REPLACE', records: [{ content: '10 mail.dnsc.example.', disabled: false }], comments: null },
      { name: 'old.dnsc.example.', type: 'A', ttl: 300, changetype: 'REPLACE', records: [{ content: '192.0.2.3', disabled: false }], comments: null },
    ] };
    assert.equal((await send(api, 'PATCH', `${S}/zones/dnsc.example.`, key, replace, JSON_CT)).status, 204);
    const deletes = { name: '', type: 'Zone', nameservers: [], rrsets: [
      { name: 'old.dnsc.example.', type: 'A', ttl: 0, changetype: 'DELETE', records: null, comments: null },
    ] };
    assert.equal((await send(api, 'PATCH', `${S}/zones/dnsc.example.`, key, deletes, JSON_CT)).status, 204);
    const z = (await send(api, 'GET', `${S}/zones/dnsc.example.`, key)).body as Zone;
    assert.deepEqual(contents(z, 'mx.dnsc.example.', 'MX'), ['10 mail.dnsc.example.']);
    assert.deepEqual(contents(z, 'old.dnsc.example.', 'A'), []);
    // 404 and 422 both mean "not found" to mittwald; errors are parsed only with this exact type.
    const missing = await send(api, 'GET', `${S}/zones/nope.example.`, key);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers['content-type'], 'application/json');
    const bad = await send(api, 'PATCH', `${S}/zones/dnsc.example.`, key, { rrsets: [{ name: 'x.dnsc.example.', type: 'A', changetype: 'REPLACE', ttl: 1, records: [{ content: 'nope', disabled: false }] }] }, JSON_CT);
    assert.equal(bad.status, 422);
    assert.equal(bad.headers['content-type'], 'application/json');
    assert.equal(typeof (bad.body as { error: string }).error, 'string');
  });

  await t.test('external-dns: ids end in a dot, REPLACE with records and DELETE with records but no ttl, registry TXT round-trips', async () => {
    const created = await send(api, 'POST', `${S}/zones`, key, { name: 'xdns.example.', kind: 'Native', nameservers: ['ns1.example.net.'] }, JSON_CT);
    assert.equal(created.status, 201);
    const list = (await send(api, 'GET', `${S}/zones`, key)).body as Zone[];
    const zone = list.find((z) => z.name === 'xdns.example.')!;
    assert.ok(zone.id.endsWith('.'), 'joeig/go-powerdns appends nothing to a canonical id');
    const registry = '"heritage=external-dns,external-dns/owner=default,external-dns/resource=service/default/web"';
    const apply = await send(api, 'PATCH', `${S}/zones/${zone.id}`, key, { rrsets: [
      { name: 'web.xdns.example.', type: 'A', ttl: 300, changetype: 'REPLACE', records: [{ content: '192.0.2.10', disabled: false }] },
      { name: 'web.xdns.example.', type: 'TXT', ttl: 300, changetype: 'REPLACE', records: [{ content: registry, disabled: false }] },
      { name: 'alias.xdns.example.', type: 'CNAME', ttl: 300, changetype: 'REPLACE', records: [{ content: 'web.xdns.example.', disabled: false }] },
      { name: 'mx.xdns.example.', type: 'MX', ttl: 300, changetype: 'REPLACE', records: [{ content: '10 web.xdns.example.', disabled: false }] },
    ] }, JSON_CT);
    assert.equal(apply.status, 204, apply.text);
    let z = (await send(api, 'GET', `${S}/zones/${zone.id}`, key)).body as Zone;
    assert.deepEqual(contents(z, 'web.xdns.example.', 'TXT'), [registry]);
    assert.ok(z.rrsets.every((r) => r.records.every((x) => x.disabled === false)));
    const del = await send(api, 'PATCH', `${S}/zones/${zone.id}`, key, { rrsets: [
      { name: 'alias.xdns.example.', type: 'CNAME', changetype: 'DELETE', records: [{ content: 'web.xdns.example.', disabled: false }] },
    ] }, JSON_CT);
    assert.equal(del.status, 204, del.text);
    z = (await send(api, 'GET', `${S}/zones/${zone.id}`, key)).body as Zone;
    assert.deepEqual(contents(z, 'alias.xdns.example.', 'CNAME'), []);
    // An apex CNAME is sent as ALIAS, which Glidepath does not serve: a clear 422, nothing changed.
    const alias = await send(api, 'PATCH', `${S}/zones/${zone.id}`, key, { rrsets: [
      { name: 'xdns.example.', type: 'ALIAS', ttl: 300, changetype: 'REPLACE', records: [{ content: 'web.xdns.example.', disabled: false }] }] }, JSON_CT);
    assert.equal(alias.status, 422);
    assert.match((alias.body as { error: string }).error, /ALIAS/);
  });
});
