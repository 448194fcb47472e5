// The PowerDNS-compatible API: discovery, zone create/get/put/delete, rrset PATCH, notify, the
// error shape, empty JSON bodies, X-API-Key auth, tenant scoping and the shared-zone rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, apexSets, type Api, type Res } from './helpers.js';

const S = '/api/v1/servers/localhost';

async function pdns(api: Api, method: string, url: string, key: string | null, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
  const h: Record<string, string> = { ...headers };
  if (key !== null) h['X-Api-Key'] = key; // lego's spelling: header names are case-insensitive
  return api.call(method, url, { token: null, headers: h, ...(body === undefined ? {} : { body }) });
}

const serialOf = async (api: Api, name: string) =>
  (await api.db.pool.query<{ serial: number }>('SELECT d.serial FROM domains d WHERE d.name = $1', [name])).rows[0]?.serial;

test('PowerDNS API', async (t) => {
  const api = await startApi();
  const a = await api.tenant('tenant-a');
  const b = await api.tenant('tenant-b');

  await t.test('discovery and auth', async () => {
    const v = await pdns(api, 'GET', '/api', a);
    assert.equal(v.status, 200);
    assert.deepEqual(v.body, [{ url: '/api/v1', version: 1 }]);
    const s = await pdns(api, 'GET', S, a);
    assert.equal(s.status, 200);
    assert.equal((s.body as { version: string }).version, '4.9.0');
    assert.equal((await pdns(api, 'GET', '/api/v1/servers', a)).status, 200);
    const none = await pdns(api, 'GET', `${S}/zones`, null);
    assert.equal(none.status, 401);
    assert.equal(typeof (none.body as { error: string }).error, 'string');
    const bad = await pdns(api, 'GET', `${S}/zones`, 'not-a-token');
    assert.equal(bad.status, 401);
    assert.deepEqual(Object.keys(bad.body as object).sort(), ['code', 'error']);
  });

  await t.test('create: 201, canonical enums, conflicts and missing kind', async () => {
    const r = await pdns(api, 'POST', `${S}/zones`, a, { name: 'example.com.', kind: 'native', nameservers: ['ns1.example.com.', 'ns2.example.net.'] });
    assert.equal(r.status, 201, r.text);
    const z = r.body as { id: string; kind: string; soa_edit_api: string; rrsets: { name: string; type: string; records: { content: string }[] }[] };
    assert.equal(z.id, 'example.com.');
    assert.equal(z.kind, 'Native');
    assert.equal(z.soa_edit_api, 'DEFAULT');
    const ns = z.rrsets.find((s) => s.type === 'NS')!;
    assert.deepEqual(ns.records.map((x) => x.content), ['ns1.example.com.', 'ns2.example.net.']);
    assert.equal(z.rrsets.find((s) => s.type === 'SOA')!.name, 'example.com.');
    assert.equal((await pdns(api, 'POST', `${S}/zones`, a, { name: 'example.com.', kind: 'Native', nameservers: ['ns1.example.net.'] })).status, 409);
    const nokind = await pdns(api, 'POST', `${S}/zones`, a, { name: 'other.com.', nameservers: ['ns1.example.net.'] });
    assert.equal(nokind.status, 422);
    assert.match((nokind.body as { error: string }).error, /kind/);
    assert.equal((await pdns(api, 'POST', `${S}/zones`, a, { name: 'nodot.com', kind: 'Native', nameservers: ['ns1.example.net.'] })).status, 422);
    const master = await pdns(api, 'POST', `${S}/zones`, a, { name: 'm.example.', kind: 'Primary', soa_edit_api: '', nameservers: ['ns1.example.net.'] });
    assert.equal(master.status, 201, master.text);
    assert.equal((master.body as { kind: string }).kind, 'Master');
    assert.equal((master.body as { soa_edit_api: string }).soa_edit_api, '');
  });

  await t.test('no name takeover: another tenant cannot create at, below or above a domain, nor a public suffix', async () => {
    const below = await pdns(api, 'POST', `${S}/zones`, b, { name: 'www.example.com.', kind: 'Native', nameservers: ['ns1.example.net.'] });
    assert.equal(below.status, 409, below.text);
    assert.equal((below.body as { code: string }).code, 'domain_unavailable');
    assert.doesNotMatch(below.text, /tenant-a/);
    const same = await pdns(api, 'POST', `${S}/zones`, b, { name: 'example.com.', kind: 'Native', nameservers: ['ns1.example.net.'] });
    assert.equal(same.status, 409);
    const suffix = await pdns(api, 'POST', `${S}/zones`, b, { name: 'co.uk.', kind: 'Native', nameservers: ['ns1.example.net.'] });
    assert.equal(suffix.status, 422, suffix.text);
    assert.equal((suffix.body as { code: string }).code, 'public_suffix');
    const rows = await api.db.pool.query("SELECT 1 FROM domains WHERE name IN ('www.example.com.', 'co.uk.')");
    assert.equal(rows.rowCount, 0);
  });

  await t.test('get by id: trailing dot optional, case ignored; list without rrsets', async () => {
    for (const id of ['example.com.', 'example.com', 'EXAMPLE.com.']) {
      const r = await pdns(api, 'GET', `${S}/zones/${id}`, a);
      assert.equal(r.status, 200, id);
      assert.equal((r.body as { name: string }).name, 'example.com.');
    }
    const l = await pdns(api, 'GET', `${S}/zones`, a);
    const zones = l.body as Record<string, unknown>[];
    assert.deepEqual(zones.map((z) => z.name), ['example.com.', 'm.example.']);
    for (const k of ['id', 'name', 'url', 'kind', 'account', 'masters', 'serial', 'notified_serial', 'last_check', 'dnssec', 'edited_serial', 'catalog']) assert.ok(k in zones[0], k);
    assert.ok(!('rrsets' in zones[0]));
    assert.equal((await pdns(api, 'GET', `${S}/zones/nosuch.example.`, a)).status, 404);
  });

  await t.test('PATCH REPLACE: 204, empty body, one serial bump, byte-exact round trip, journaled', async () => {
    const before = await serialOf(api, 'example.com.');
    const r = await pdns(api, 'PATCH', `${S}/zones/example.com.`, a, { rrsets: [
      { name: '_acme-challenge.example.com.', type: 'TXT', kind: 'Master', changetype: 'REPLACE', ttl: 120,
        records: [{ content: '"tok-en_1"', disabled: false, name: '_acme-challenge.example.com.', type: 'TXT', ttl: 120 }] },
      { name: 'www.example.com.', type: 'CNAME', changetype: 'replace', ttl: 300, records: [{ content: 'example.com.', disabled: false }] },
      { name: 'mx.example.com.', type: 'MX', changetype: 'REPLACE', ttl: 300, records: [{ content: '10 mail.example.com.', disabled: false }, { content: '20 mx.example.net.', disabled: false }] },
      { name: 't.example.com.', type: 'TXT', changetype: 'REPLACE', ttl: 60, records: [{ content: '"a b" "c\\"d"', disabled: false }] },
    ] });
    assert.equal(r.status, 204, r.text);
    assert.equal(r.text, '');
    assert.equal(await serialOf(api, 'example.com.'), before + 1);
    const z = (await pdns(api, 'GET', `${S}/zones/example.com.`, a)).body as { rrsets: { name: string; type: string; ttl: number; records: { content: string }[] }[] };
    const get = (n: string, ty: string) => z.rrsets.find((s) => s.name === n && s.type === ty)!;
    assert.deepEqual(get('_acme-challenge.example.com.', 'TXT').records.map((x) => x.content), ['"tok-en_1"']);
    assert.equal(get('_acme-challenge.example.com.', 'TXT').ttl, 120);
    assert.deepEqual(get('www.example.com.', 'CNAME').records.map((x) => x.content), ['example.com.']);
    assert.deepEqual(get('mx.example.com.', 'MX').records.map((x) => x.content), ['10 mail.example.com.', '20 mx.example.net.']);
    assert.deepEqual(get('t.example.com.', 'TXT').records.map((x) => x.content), ['"a b" "c\\"d"']);
    const j = await api.db.pool.query<{ actor: string }>(`SELECT actor FROM journal WHERE entity = 'records' ORDER BY seq DESC LIMIT 1`);
    assert.match(j.rows[0].actor, /^token:/);
    // lego's cleanup: DELETE with kind "" and no records.
    const d = await pdns(api, 'PATCH', `${S}/zones/example.com.`, a, { rrsets: [{ name: '_acme-challenge.example.com.', type: 'TXT', kind: '', changetype: 'DELETE' }] });
    assert.equal(d.status, 204);
    assert.equal(await serialOf(api, 'example.com.'), before + 2);
  });

  await t.test('bad input: documented 422, nothing changed', async () => {
    const before = await serialOf(api, 'example.com.');
    const rrsetsBefore = (await pdns(api, 'GET', `${S}/zones/example.com.`, a)).text;
    const cases: [unknown, RegExp][] = [
      [{ rrsets: [{ name: 'x.example.com.', type: 'A', changetype: 'UPSERT', ttl: 1, records: [{ content: '192.0.2.1', disabled: false }] }] }, /changetype/],
      [{ rrsets: [{ name: 'x.other.org.', type: 'A', changetype: 'REPLACE', ttl: 1, records: [{ content: '192.0.2.1', disabled: false }] }] }, /out of zone/],
      [{ rrsets: [{ name: 'x.example.com', type: 'A', changetype: 'REPLACE', ttl: 1, records: [{ content: '192.0.2.1', disabled: false }] }] }, /dot/],
      [{ rrsets: [{ name: 'x.example.com.', type: 'A', changetype: 'REPLACE', ttl: 1, records: [{ content: '192.0.2.300', disabled: false }] }] }, /expected format/],
      [{ rrsets: [{ name: 'x.example.com.', type: 'CNAME', changetype: 'REPLACE', ttl: 1, records: [{ content: 'relative', disabled: false }] }] }, /expected format/],
      [{ rrsets: [{ name: 'x.example.com.', type: 'A', changetype: 'REPLACE', records: [{ content: '192.0.2.1', disabled: false }] }] }, /ttl/],
      [{ rrsets: [{ name: 'x.example.com.', type: 'A', changetype: 'REPLACE', ttl: 1 }] }, /records/],
      [{ rrsets: [{ name: 'x.example.com.', type: 'NOPE', changetype: 'REPLACE', ttl: 1, records: [] }] }, /type/],
      [{ rrsets: [{ name: 'www.example.com.', type: 'A', changetype: 'REPLACE', ttl: 1, records: [{ content: '192.0.2.1', disabled: false }] }] }, /Conflicts with pre-existing RRset/],
      [{ rrsets: [{ name: 'a.example.com.', type: 'A', changetype: 'REPLACE', ttl: 1, records: [{ content: '192.0.2.1', disabled: false }] },
        { name: 'a.example.com.', type: 'A', changetype: 'DELETE' }] }, /Duplicate/],
      [{ rrsets: [{ name: 'example.com.', type: 'SOA', changetype: 'DELETE' }] }, /SOA/],
      [{ rrsets: 'nope' }, /array/],
    ];
    for (const [bodyIn, re] of cases) {
      const r = await pdns(api, 'PATCH', `${S}/zones/example.com.`, a, bodyIn);
      assert.equal(r.status, 422, `${JSON.stringify(bodyIn)}: ${r.text}`);
      assert.match((r.body as { error: string }).error, re);
    }
    const broken = await api.call('PATCH', `${S}/zones/example.com.`, { token: null, headers: { 'x-api-key': a }, raw: '{"rrsets": [', type: 'application/json' });
    assert.equal(broken.status, 400);
    assert.equal(await serialOf(api, 'example.com.'), before);
    assert.equal((await pdns(api, 'GET', `${S}/zones/example.com.`, a)).text, rrsetsBefore);
  });

  await t.test('octoDNS: DELETE then REPLACE turns an A into a CNAME in one PATCH', async () => {
    assert.equal((await pdns(api, 'PATCH', `${S}/zones/example.com.`, a, { rrsets: [
      { name: 'sw.example.com.', type: 'A', changetype: 'REPLACE', ttl: 60, records: [{ content: '192.0.2.7', disabled: false }] }] })).status, 204);
    const r = await pdns(api, 'PATCH', `${S}/zones/example.com.`, a, { rrsets: [
      { name: 'sw.example.com.', type: 'A', changetype: 'DELETE', ttl: 60, records: [{ content: '192.0.2.7', disabled: false }] },
      { name: 'sw.example.com.', type: 'CNAME', changetype: 'REPLACE', ttl: 60, records: [{ content: 'www.example.com.', disabled: false }] }] });
    assert.equal(r.status, 204, r.text);
  });

  await t.test('tenant scoping: another tenant\'s zone is 404 everywhere', async () => {
    for (const [m, body] of [['GET', undefined], ['PATCH', { rrsets: [] }], ['PUT', { kind: 'Native' }], ['DELETE', undefined], ['PUT', undefined]] as const) {
      const url = m === 'PUT' && body === undefined ? `${S}/zones/example.com./notify` : `${S}/zones/example.com.`;
      const r = await pdns(api, m, url, b, body);
      assert.equal(r.status, 404, `${m} ${url}`);
      assert.equal((r.body as { error: string }).error, 'Not Found');
    }
    assert.deepEqual((await pdns(api, 'GET', `${S}/zones`, b)).body, []);
    // The admin token sees every tenant's zones.
    const all = (await pdns(api, 'GET', `${S}/zones`, 'test-admin-secret')).body as { name: string }[];
    assert.ok(all.some((z) => z.name === 'example.com.'));
  });

  await t.test('a shared zone is refused with 422 naming it', async () => {
    assert.equal((await api.call('POST', '/v1/zones', { token: a, body: { name: 'web', rrsets: apexSets() } })).status, 201);
    for (const n of ['one.example', 'two.example']) assert.equal((await api.call('POST', '/v1/domains', { token: a, body: { name: n, zone: 'web' } })).status, 201);
    const r = await pdns(api, 'PATCH', `${S}/zones/one.example.`, a, { rrsets: [{ name: 'x.one.example.', type: 'A', changetype: 'REPLACE', ttl: 60, records: [{ content: '192.0.2.1', disabled: false }] }] });
    assert.equal(r.status, 422);
    assert.equal((r.body as { code: string }).code, 'zone_shared');
    assert.match((r.body as { error: string }).error, /"web".*two\.example\./);
    assert.equal((await pdns(api, 'GET', `${S}/zones/one.example.`, a)).status, 200);
  });

  await t.test('empty JSON bodies: notify 200, PUT 204, DELETE 204', async () => {
    const n = await api.call('PUT', `${S}/zones/m.example./notify`, { token: null, headers: { 'x-api-key': a, 'content-type': 'application/json' } });
    assert.equal(n.status, 200, n.text);
    assert.deepEqual(n.body, { result: 'Notification queued' });
    const p = await pdns(api, 'PUT', `${S}/zones/m.example.`, a, { name: 'm.example.', kind: 'Native', account: 'acct', soa_edit_api: 'INCREASE' });
    assert.equal(p.status, 204, p.text);
    const g = (await pdns(api, 'GET', `${S}/zones/m.example.`, a)).body as { kind: string; account: string; soa_edit_api: string };
    assert.deepEqual([g.kind, g.account, g.soa_edit_api], ['Native', 'acct', 'INCREASE']);
    const d = await api.call('DELETE', `${S}/zones/m.example.`, { token: null, headers: { 'x-api-key': a, 'content-type': 'application/json' } });
    assert.equal(d.status, 204, d.text);
    assert.equal((await pdns(api, 'GET', `${S}/zones/m.example.`, a)).status, 404);
    const z = await api.db.pool.query(`SELECT 1 FROM zones WHERE name = 'm.example'`);
    assert.equal(z.rowCount, 0);
  });
});
