// RFC 2136 UPDATE with TSIG, driven by BIND's nsupdate over UDP and TCP: adds and deletes seen by
// the next query, prerequisites, the update policy (REFUSED and nothing changed), unsigned and
// badly signed messages, hmac-sha256 and hmac-md5 keys, the journal's actor and one serial bump.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startTestServer, settle, type TestServer } from '../helpers/server.js';
import { query } from '../helpers/dig.js';

const have = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const ADMIN = 'test-admin-token';
const ZONE = 'upd.example.';

interface Run { code: number | null; out: string }

/** Runs nsupdate (asynchronously: the server answers from this same process). */
function nsupdate(s: TestServer, script: string[], o: { key?: string; tcp?: boolean } = {}): Promise<Run> {
  const args = [...(o.tcp ? ['-v'] : []), ...(o.key ? ['-y', o.key] : [])];
  const input = [`server 127.0.0.1 ${s.dnsPort()}`, `zone ${ZONE}`, ...script, 'send', ''].join('\n');
  return new Promise((resolve) => {
    const p = spawn('nsupdate', args, { timeout: 20_000 });
    let out = '';
    p.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    p.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    p.on('close', (code) => resolve({ code, out }));
    p.stdin.end(input);
  });
}

test('nsupdate with TSIG', { skip: have('nsupdate') ? false : 'nsupdate not installed (Debian package bind9-dnsutils)', timeout: 120_000 }, async (t) => {
  const s = await startTestServer();
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(s.apiUrl() + path, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) as unknown : undefined;
  };
  await api('POST', '/v1/zones', { name: 'upd', rrsets: [
    { owner: '@', type: 'SOA', ttl: 3600, records: ['ns1 hostmaster 1 3600 600 86400 300'] },
    { owner: '@', type: 'NS', ttl: 3600, records: ['ns1'] },
    { owner: 'ns1', type: 'A', ttl: 3600, records: ['192.0.2.53'] },
    { owner: 'keep', type: 'A', ttl: 300, records: ['192.0.2.99'] },
  ] });
  await api('POST', '/v1/domains', { name: ZONE, zone: 'upd' });
  const sha = randomBytes(32).toString('base64');
  const md5 = randomBytes(16).toString('base64');
  const acme = randomBytes(32).toString('base64');
  await api('POST', '/v1/tsig-keys', { name: 'upd-key.', algorithm: 'hmac-sha256', secret: sha });
  await api('POST', '/v1/tsig-keys', { name: 'md5-key.', algorithm: 'hmac-md5', secret: md5 });
  await api('POST', '/v1/tsig-keys', { name: 'acme-only.', algorithm: 'hmac-sha256', secret: acme });
  await api('POST', '/v1/tsig-keys', { name: 'stranger.', algorithm: 'hmac-sha256', secret: acme });
  const policy = await api('PUT', `/v1/domains/${ZONE}/update-policy`, { rules: [
    { key: 'upd-key.', names: ['@', '*'], types: ['ANY'] },
    { key: 'md5-key.', names: ['@', '*'], types: ['ANY'] },
    { key: 'acme-only.', names: ['_acme-challenge', '_acme-challenge.*'], types: ['TXT'] },
  ] }) as { rules: unknown[] };
  assert.equal(policy.rules.length, 3);
  await settle(s);
  const SHA = `hmac-sha256:upd-key.:${sha}`;
  const MD5 = `hmac-md5:md5-key.:${md5}`;
  const ACME = `hmac-sha256:acme-only.:${acme}`;
  const answer = async (name: string, type: string) => (await query(s.dnsPort(), name, type)).answer;
  const serial = async () => (await s.db.pool.query<{ serial: number }>('SELECT d.serial FROM domains d WHERE d.name = $1', [ZONE])).rows[0].serial;

  await t.test('add over UDP (hmac-sha256): seen at once, one serial bump, journaled with the key name', async () => {
    const before = await serial();
    const r = await nsupdate(s, ['update add www.upd.example. 300 A 192.0.2.10', 'update add www.upd.example. 300 A 192.0.2.11'], { key: SHA });
    assert.equal(r.code, 0, r.out);
    assert.deepEqual((await answer('www.upd.example.', 'A')).sort(), ['www.upd.example. A 300 192.0.2.10', 'www.upd.example. A 300 192.0.2.11']);
    assert.equal(await serial(), before + 1);
    const j = await s.db.pool.query<{ actor: string }>(`SELECT actor FROM journal WHERE entity = 'records' ORDER BY seq DESC LIMIT 1`);
    assert.equal(j.rows[0].actor, 'tsig:upd-key.');
  });

  await t.test('delete one RR over TCP (hmac-md5), then the RRset, then the name', async () => {
    let r = await nsupdate(s, ['update delete www.upd.example. A 192.0.2.10'], { key: MD5, tcp: true });
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(await answer('www.upd.example.', 'A'), ['www.upd.example. A 300 192.0.2.11']);
    r = await nsupdate(s, ['update add www.upd.example. 60 TXT "hello world"', 'update delete www.upd.example. A'], { key: MD5 });
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(await answer('www.upd.example.', 'A'), []);
    assert.deepEqual(await answer('www.upd.example.', 'TXT'), ['www.upd.example. TXT 60 "hello world"']);
    r = await nsupdate(s, ['update delete www.upd.example.'], { key: SHA, tcp: true });
    assert.equal(r.code, 0, r.out);
    assert.equal((await query(s.dnsPort(), 'www.upd.example.', 'TXT')).rcode, 'NXDOMAIN');
  });

  await t.test('prerequisites: NXDOMAIN, YXDOMAIN, NXRRSET, YXRRSET answered and nothing changed', async () => {
    const before = await serial();
    const cases: [string[], RegExp][] = [
      [['prereq yxdomain nothing.upd.example.', 'update add x.upd.example. 60 A 192.0.2.1'], /NXDOMAIN/],
      [['prereq nxdomain keep.upd.example.', 'update add x.upd.example. 60 A 192.0.2.1'], /YXDOMAIN/],
      [['prereq yxrrset keep.upd.example. AAAA', 'update add x.upd.example. 60 A 192.0.2.1'], /NXRRSET/],
      [['prereq nxrrset keep.upd.example. A', 'update add x.upd.example. 60 A 192.0.2.1'], /YXRRSET/],
      [['prereq yxrrset keep.upd.example. A 192.0.2.98', 'update add x.upd.example. 60 A 192.0.2.1'], /NXRRSET/],
    ];
    for (const [script, re] of cases) {
      const r = await nsupdate(s, script, { key: SHA });
      assert.notEqual(r.code, 0, script.join('; '));
      assert.match(r.out, re, script.join('; '));
    }
    assert.equal(await serial(), before);
    assert.deepEqual(await answer('x.upd.example.', 'A'), []);
    const ok = await nsupdate(s, ['prereq yxrrset keep.upd.example. A 192.0.2.99', 'prereq nxdomain x.upd.example.', 'update add x.upd.example. 60 A 192.0.2.1'], { key: SHA });
    assert.equal(ok.code, 0, ok.out);
    assert.deepEqual(await answer('x.upd.example.', 'A'), ['x.upd.example. A 60 192.0.2.1']);
  });

  await t.test('update policy: TXT at _acme-challenge allowed, an A refused and nothing changed', async () => {
    let r = await nsupdate(s, ['update add _acme-challenge.www.upd.example. 60 TXT "tok"', 'update add _acme-challenge.upd.example. 60 TXT "tok2"'], { key: ACME });
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(await answer('_acme-challenge.www.upd.example.', 'TXT'), ['_acme-challenge.www.upd.example. TXT 60 "tok"']);
    const before = await serial();
    r = await nsupdate(s, ['update add _acme-challenge.upd.example. 60 TXT "tok3"', 'update add keep.upd.example. 60 A 203.0.113.1'], { key: ACME });
    assert.notEqual(r.code, 0);
    assert.match(r.out, /REFUSED/);
    r = await nsupdate(s, ['update add _acme-challenge.upd.example. 60 CAA 0 issue "ca.example"'], { key: ACME });
    assert.match(r.out, /REFUSED/);
    r = await nsupdate(s, ['update add www.upd.example. 60 A 203.0.113.1'], { key: `hmac-sha256:stranger.:${acme}` });
    assert.match(r.out, /REFUSED/);
    assert.equal(await serial(), before);
    assert.deepEqual(await answer('keep.upd.example.', 'A'), ['keep.upd.example. A 300 192.0.2.99']);
    assert.deepEqual(await answer('_acme-challenge.upd.example.', 'TXT'), ['_acme-challenge.upd.example. TXT 60 "tok2"']);
  });

  await t.test('unsigned: REFUSED; wrong secret or unknown key: TSIG failure; outside the zone: NOTZONE', async () => {
    const before = await serial();
    let r = await nsupdate(s, ['update add y.upd.example. 60 A 192.0.2.2']);
    assert.match(r.out, /REFUSED/);
    r = await nsupdate(s, ['update add y.upd.example. 60 A 192.0.2.2'], { key: `hmac-sha256:upd-key.:${acme}` });
    assert.notEqual(r.code, 0);
    assert.match(r.out, /BADSIG|tsig|NOTAUTH/i);
    r = await nsupdate(s, ['update add y.upd.example. 60 A 192.0.2.2'], { key: `hmac-sha256:nobody.:${acme}` });
    assert.notEqual(r.code, 0);
    assert.match(r.out, /BADKEY|tsig|NOTAUTH/i);
    r = await nsupdate(s, ['update add y.other.example. 60 A 192.0.2.2'], { key: SHA });
    assert.match(r.out, /NOTZONE/);
    assert.equal(await serial(), before);
    assert.deepEqual(await answer('y.upd.example.', 'A'), []);
    // The server still answers.
    assert.deepEqual(await answer('keep.upd.example.', 'A'), ['keep.upd.example. A 300 192.0.2.99']);
  });
});
