// DNSSEC through the API: keys per domain (two domains on one zone each get their own), private
// keys encrypted at rest under the key file and never returned or logged, DS digests that match the
// DNSKEY, tenant scoping, and clear 4xx errors that change nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, makeZone, errorOf } from './helpers.js';
import { KekHolder, loadKek, KeyFileError } from '../../src/store/key-file.js';
import { loadDnssec, decryptPrivate } from '../../src/store/dnssec-keys.js';
import { canonicalName } from '../../src/dnssec/keys.js';

const dir = mkdtempSync(join(tmpdir(), 'glidepath-kek-'));
const kekFile = join(dir, 'sub', 'kek.key');
const api = await startApi({ kek: new KekHolder({ file: kekFile, create: true }) });
const a = await api.tenant('tenant-a');
const b = await api.tenant('tenant-b');
await makeZone(api, 'shared', a);
for (const name of ['one.example', 'two.example']) {
  assert.equal((await api.call('POST', '/v1/domains', { token: a, body: { name, zone: 'shared' } })).status, 201);
}

type Dnssec = { domain: string; signed: boolean; algorithm: string | null; ds: string[]; cds_delete: boolean;
  keys: Array<{ key_tag: number; flags: number; algorithm: string; state: string; dnskey: string; ds: string[] }> };

const rows = async () => (await api.db.pool.query('SELECT domain_id, algorithm, private_key, kek_id, key_tag, state FROM dnssec_keys ORDER BY id')).rows;

test('enable signs the domain with an ECDSA P-256 CSK by default; GET shows DNSKEY, tag, flags, state, DS SHA-256 and SHA-384', async () => {
  const r = await api.call('PUT', '/v1/domains/one.example/dnssec', { token: a, body: {} });
  assert.equal(r.status, 200, r.text);
  const d = r.body as Dnssec;
  assert.equal(d.signed, true);
  assert.equal(d.algorithm, 'ecdsap256sha256');
  assert.equal(d.keys.length, 1);
  const k = d.keys[0];
  assert.equal(k.flags, 257);
  assert.equal(k.state, 'active');
  const [flags, proto, alg, pub] = k.dnskey.split(' ');
  assert.deepEqual([flags, proto, alg], ['257', '3', '13']);
  assert.equal(Buffer.from(pub, 'base64').length, 64);
  // DS digests recomputed here from the DNSKEY (RFC 4034 5.1.4).
  const rdata = Buffer.concat([Buffer.from([1, 1, 3, 13]), Buffer.from(pub, 'base64')]);
  const sha256 = createHash('sha256').update(canonicalName('one.example.')).update(rdata).digest('hex').toUpperCase();
  const sha384 = createHash('sha384').update(canonicalName('one.example.')).update(rdata).digest('hex').toUpperCase();
  assert.deepEqual(k.ds, [`${k.key_tag} 13 2 ${sha256}`, `${k.key_tag} 13 4 ${sha384}`]);
  assert.deepEqual(d.ds, [`one.example. DS ${k.key_tag} 13 2 ${sha256}`, `one.example. DS ${k.key_tag} 13 4 ${sha384}`]);
  // The same again is a no-op; GET says the same.
  const again = await api.call('PUT', '/v1/domains/one.example/dnssec', { token: a, body: { algorithm: 'ecdsap256sha256' } });
  assert.deepEqual((again.body as Dnssec).keys, d.keys);
  assert.deepEqual((await api.call('GET', '/v1/domains/one.example/dnssec', { token: a })).body, d);
});

test('keys belong to the domain: the other domain on the same zone is unsigned, then gets its own Ed25519 key', async () => {
  const two = await api.call('GET', '/v1/domains/two.example/dnssec', { token: a });
  assert.equal((two.body as Dnssec).signed, false);
  const r = await api.call('PUT', '/v1/domains/two.example/dnssec', { token: a, body: { algorithm: 'ed25519' } });
  assert.equal(r.status, 200, r.text);
  const k = (r.body as Dnssec).keys[0];
  assert.equal(k.algorithm, 'ed25519');
  assert.equal(Buffer.from(k.dnskey.split(' ')[3], 'base64').length, 32);
  const one = (await api.call('GET', '/v1/domains/one.example/dnssec', { token: a })).body as Dnssec;
  assert.notEqual(one.keys[0].dnskey, k.dnskey);
});

test('private keys: encrypted at rest (no PKCS #8 in the row), never in a response or a log line; the key file is 0600', async () => {
  const all = (await api.db.pool.query('SELECT id, domain_id, private_key, kek_id FROM dnssec_keys')).rows as
    Array<{ id: number; domain_id: number; private_key: Buffer; kek_id: string }>;
  assert.equal(all.length, 2);
  const kek = loadKek({ file: kekFile, create: false });
  for (const r of all) {
    assert.equal(r.kek_id, kek.id);
    const der = decryptPrivate(kek, r);
    assert.equal(der[0], 0x30); // PKCS #8 DER, once decrypted
    assert.ok(!r.private_key.includes(der.subarray(-24)), 'the stored row does not hold the key in the clear');
    for (const l of api.logs) assert.ok(!l.includes(der.subarray(-24).toString('base64')) && !l.includes(der.subarray(-24).toString('hex')));
  }
  assert.equal(statSync(kekFile).mode & 0o777, 0o600);
  const text = JSON.stringify((await api.call('GET', '/v1/domains/one.example/dnssec', { token: a })).body);
  assert.ok(!/private/i.test(text));
  // The keys decrypt with the right key file and sign (loaded as the DNS side loads them).
  const loaded = await loadDnssec(api.db.pool, new KekHolder({ file: kekFile, create: false }), 'all');
  assert.equal([...loaded.values()].flatMap((d) => d.keys).length, 2);
});

test('a wrong or missing key file is one clear error naming GLIDEPATH_KEY_FILE', async () => {
  const wrong = join(dir, 'wrong.key');
  writeFileSync(wrong, Buffer.alloc(32, 7).toString('base64'));
  await assert.rejects(loadDnssec(api.db.pool, new KekHolder({ file: wrong, create: false }), 'all'),
    (e: Error) => e instanceof KeyFileError && /GLIDEPATH_KEY_FILE: .*wrong\.key is not the key/.test(e.message));
  assert.throws(() => loadKek({ file: join(dir, 'absent.key'), create: false }), (e: Error) => e instanceof KeyFileError && /does not exist/.test(e.message));
  writeFileSync(join(dir, 'short.key'), 'abc');
  assert.throws(() => loadKek({ file: join(dir, 'short.key'), create: false }), /32 octets in base64/);
});

test('bad input: unknown algorithm (422), another algorithm while signed (409), missing and foreign domains (404); nothing changes', async () => {
  const before = await rows();
  const u = await api.call('PUT', '/v1/domains/one.example/dnssec', { token: a, body: { algorithm: 'rsasha1' } });
  assert.equal(u.status, 422);
  assert.equal(errorOf(u).error, 'unknown_algorithm');
  assert.equal(errorOf(u).details[0].path, 'algorithm');
  const c = await api.call('PUT', '/v1/domains/one.example/dnssec', { token: a, body: { algorithm: 'ed25519' } });
  assert.equal(c.status, 409);
  assert.equal(errorOf(c).error, 'dnssec_algorithm_differs');
  for (const [method, url, token] of [['PUT', '/v1/domains/none.example/dnssec', a], ['PUT', '/v1/domains/one.example/dnssec', b],
    ['GET', '/v1/domains/one.example/dnssec', b], ['DELETE', '/v1/domains/one.example/dnssec', b]] as const) {
    const r = await api.call(method, url, { token, body: method === 'PUT' ? {} : undefined });
    assert.equal(r.status, 404, `${method} ${url}`);
  }
  assert.deepEqual(await rows(), before);
});

test('disable: keys gone, CDS delete announced; a second disable is 404 not_signed', async () => {
  const r = await api.call('DELETE', '/v1/domains/two.example/dnssec', { token: a });
  assert.equal(r.status, 204);
  const d = (await api.call('GET', '/v1/domains/two.example/dnssec', { token: a })).body as Dnssec;
  assert.equal(d.signed, false);
  assert.equal(d.cds_delete, true);
  const again = await api.call('DELETE', '/v1/domains/two.example/dnssec', { token: a });
  assert.equal(again.status, 404);
  assert.equal(errorOf(again).error, 'not_signed');
  // Signing on again clears the delete.
  await api.call('PUT', '/v1/domains/two.example/dnssec', { token: a, body: {} });
  assert.equal(((await api.call('GET', '/v1/domains/two.example/dnssec', { token: a })).body as Dnssec).cds_delete, false);
});
