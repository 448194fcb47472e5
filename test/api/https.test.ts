// The API over HTTPS with client certificates, from a real TLS client: a mapped certificate
// authenticates as its tenant; revoked, expired, untrusted, unmapped and missing ones get a 401
// that says why (and a log line); a CRL reloaded by reload() (SIGHUP) is seen by the next handshake.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { pino } from 'pino';
import { startTestServer } from '../helpers/server.js';
import { makePki } from '../helpers/pki.js';

const ADMIN = 'test-admin-token';
const pki = makePki();
after(() => pki.remove());
const server = pki.selfSigned('server', '/CN=api.glidepath.test');
const panel = pki.issue('panel', '/O=Example/CN=panel');
const panel2 = pki.issue('panel2', '/C=FR/O=Example/CN=panel2');
const unmapped = pki.issue('unmapped', '/CN=unmapped');
const doomed = pki.issue('doomed', '/CN=doomed');
const expired = pki.issue('expired', '/CN=expired', { start: '20200101000000Z', end: '20200102000000Z' });
const stranger = pki.selfSigned('stranger', '/CN=stranger');
pki.revoke(doomed.cert);
pki.gencrl();
// The server reads its CRL from a copy, so that the test decides when a new list is "deployed".
const crlFile = join(pki.dir, 'deployed-crl.pem');
copyFileSync(pki.crl, crlFile);

const logs: string[] = [];
const log = pino({ level: 'info' }, { write: (l: string) => { logs.push(l); } });
const apiTls = (clientCert: 'optional' | 'require') => ({
  certFile: server.cert, keyFile: server.key, clientCaFiles: [pki.ca], clientCrlFile: crlFile, clientCert,
});
const s = await startTestServer({ dns: [], apiTls: apiTls('optional'), log });
const strict = await startTestServer({ dns: [], apiTls: apiTls('require'), log });

interface Res { status: number; body: { message?: string; [k: string]: unknown } }
function call(base: string, method: string, path: string, o: { cert?: { cert: string; key: string }; token?: string; body?: unknown } = {}): Promise<Res> {
  const u = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: u.hostname, port: u.port, path: u.pathname + u.search, method,
      rejectUnauthorized: false, agent: false, // a new handshake per call: the CRL test needs it
      ...(o.cert ? { cert: readFileSync(o.cert.cert), key: readFileSync(o.cert.key) } : {}),
      headers: {
        ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
        ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
    }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) as Res['body'] : {} }));
    });
    req.on('error', reject);
    req.end(o.body !== undefined ? JSON.stringify(o.body) : undefined);
  });
}
const fingerprint = (f: string) => new X509Certificate(readFileSync(f)).fingerprint256;

test('the API answers over HTTPS, and tokens still work without a certificate where certificates are optional', async () => {
  assert.match(s.apiUrl(), /^https:\/\/127\.0\.0\.1:\d+$/);
  const r = await call(s.apiUrl(), 'POST', '/v1/tenants', { token: ADMIN, body: { name: 'acme' } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal((await call(s.apiUrl(), 'GET', '/v1/zones')).status, 401, 'no certificate and no token');
});

test('a certificate mapped by fingerprint authenticates as its tenant, and only as its tenant', async () => {
  const m = await call(s.apiUrl(), 'POST', '/v1/client-certs', { token: ADMIN, body: { tenant: 'acme', fingerprint: fingerprint(panel.cert) } });
  assert.equal(m.status, 201, JSON.stringify(m.body));
  assert.match(String(m.body.fingerprint), /^[0-9a-f]{64}$/);
  const z = await call(s.apiUrl(), 'POST', '/v1/zones', {
    cert: panel,
    body: { name: 'shop', rrsets: [{ owner: '@', type: 'SOA', ttl: 3600, records: ['ns1 hostmaster 1 3600 600 86400 300'] }, { owner: '@', type: 'NS', ttl: 3600, records: ['ns1.example.net.'] }] },
  });
  assert.equal(z.status, 201, JSON.stringify(z.body));
  const listed = await call(s.apiUrl(), 'GET', '/v1/zones?tenant=acme', { token: ADMIN });
  assert.deepEqual((listed.body.zones as { name: string }[]).map((x) => x.name), ['shop'], 'the zone went to the certificate\'s tenant');
  assert.equal((await call(s.apiUrl(), 'GET', '/v1/tenants', { cert: panel })).status, 403, 'a tenant certificate is no admin');
});

test('a certificate mapped by subject (as openssl prints it) authenticates too', async () => {
  const m = await call(s.apiUrl(), 'POST', '/v1/client-certs', { token: ADMIN, body: { tenant: 'acme', subject: 'subject=C = FR, O = Example, CN = panel2' } });
  assert.equal(m.status, 201, JSON.stringify(m.body));
  assert.equal(m.body.subject, 'C=FR,O=Example,CN=panel2');
  assert.equal((await call(s.apiUrl(), 'GET', '/v1/zones', { cert: panel2 })).status, 200);
});

test('revoked, expired, untrusted and unmapped certificates get a 401 that says why, and a log line', async () => {
  for (const [cert, why] of [[doomed, /revoked/], [expired, /expired/], [stranger, /self-signed|trusted CA/], [unmapped, /not mapped/]] as const) {
    const r = await call(s.apiUrl(), 'GET', '/v1/zones', { cert });
    assert.equal(r.status, 401, `${cert.cert}: ${JSON.stringify(r.body)}`);
    assert.match(String(r.body.message), why);
  }
  // Even with a good token: a presented certificate that does not verify is refused, not ignored.
  assert.equal((await call(s.apiUrl(), 'GET', '/v1/zones', { cert: doomed, token: ADMIN })).status, 401);
  const refused = logs.map((l) => JSON.parse(l) as { msg: string; reason?: string }).filter((l) => l.msg === 'client certificate refused');
  assert.ok(refused.some((l) => /revoked/.test(l.reason ?? '')), 'the revocation is logged with its reason');
  assert.ok(refused.some((l) => /expired/.test(l.reason ?? '')));
});

test('with GLIDEPATH_API_CLIENT_CERT=require a request without a certificate is refused, token or not', async () => {
  const r = await call(strict.apiUrl(), 'GET', '/v1/zones', { token: ADMIN });
  assert.equal(r.status, 401);
  assert.match(String(r.body.message), /client certificate is required/);
  assert.equal((await call(strict.apiUrl(), 'GET', '/healthz')).status, 200, 'health checks need no certificate');
  // A verified but unmapped certificate plus a token: the token says who is calling.
  assert.equal((await call(strict.apiUrl(), 'GET', '/v1/zones', { cert: unmapped, token: ADMIN })).status, 200);
  assert.equal((await call(strict.apiUrl(), 'GET', '/v1/zones', { cert: doomed, token: ADMIN })).status, 401);
});

test('a new CRL takes effect on reload (SIGHUP) for the next handshake', async () => {
  assert.equal((await call(s.apiUrl(), 'GET', '/v1/zones', { cert: panel })).status, 200);
  pki.revoke(panel.cert);
  pki.gencrl();
  copyFileSync(pki.crl, crlFile);
  assert.equal((await call(s.apiUrl(), 'GET', '/v1/zones', { cert: panel })).status, 200, 'not before the reload');
  await s.reload();
  const r = await call(s.apiUrl(), 'GET', '/v1/zones', { cert: panel });
  assert.equal(r.status, 401);
  assert.match(String(r.body.message), /revoked/);
});

test('a mapping with a malformed fingerprint or both keys is refused, naming the field', async () => {
  const bad = await call(s.apiUrl(), 'POST', '/v1/client-certs', { token: ADMIN, body: { tenant: 'acme', fingerprint: 'abc' } });
  assert.equal(bad.status, 422);
  assert.equal((bad.body.details as { path: string }[])[0].path, 'body.fingerprint');
  const both = await call(s.apiUrl(), 'POST', '/v1/client-certs', { token: ADMIN, body: { tenant: 'acme', fingerprint: fingerprint(unmapped.cert), subject: 'CN=x' } });
  assert.equal(both.status, 422);
  const list = await call(s.apiUrl(), 'GET', '/v1/client-certs', { token: ADMIN });
  assert.equal((list.body.client_certs as unknown[]).length, 2, 'nothing was added by the refused requests');
});
