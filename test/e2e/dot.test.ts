// DNS over TLS with real TLS clients: pipelined queries on one connection, ALPN "dot", TLS 1.1
// refused, and a certificate reload seen by the next handshake while an open connection goes on.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, importText, waitFor } from '../helpers/server.js';
import { buildQuery, parseResponse, type Response } from '../helpers/dig.js';
import { xfr, xfrQuery, complete, type XfrResult } from '../helpers/xfr.js';

const dir = mkdtempSync(join(tmpdir(), 'glidepath-dot-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
function selfSigned(cn: string): void {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${cn}`], { stdio: 'ignore' });
}
selfSigned('first.dot.test');

const s = await startTestServer({ api: null, dot: [{ host: '127.0.0.1', port: 0 }], tls: { certFile: cert, keyFile: key } });
await importText(s, `$ORIGIN dot.example.
@ 3600 SOA ns1 hostmaster 1 3600 600 86400 300
@ 3600 NS ns1
ns1 3600 A 192.0.2.1
www 300 A 192.0.2.80
`);

function connect(o: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: '127.0.0.1', port: s.dotPort(), rejectUnauthorized: false, ALPNProtocols: ['dot'], ...o });
    sock.once('secureConnect', () => resolve(sock));
    sock.once('error', reject);
  });
}

/** Sends the queries in one write; resolves with as many framed answers, in arrival order. */
function exchange(sock: tls.TLSSocket, queries: Buffer[]): Promise<Response[]> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const out: Response[] = [];
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(parseResponse(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length === queries.length) { sock.off('data', onData); resolve(out); }
    };
    sock.on('data', onData);
    sock.once('error', reject);
    sock.write(Buffer.concat(queries.flatMap((q) => { const l = Buffer.alloc(2); l.writeUInt16BE(q.length); return [l, q]; })));
  });
}

test('several pipelined queries on one TLS connection are all answered; ALPN is dot, TLS 1.3', async () => {
  const sock = await connect();
  try {
    assert.equal(sock.alpnProtocol, 'dot');
    assert.equal(sock.getProtocol(), 'TLSv1.3');
    const qs = [buildQuery('www.dot.example.', 'A', { id: 1 }), buildQuery('dot.example.', 'SOA', { id: 2 }), buildQuery('nope.dot.example.', 'A', { id: 3 })];
    const rs = await exchange(sock, qs);
    const byId = new Map(rs.map((r) => [r.id, r]));
    assert.deepEqual(byId.get(1)!.answer, ['www.dot.example. A 300 192.0.2.80']);
    assert.equal(byId.get(2)!.answer.length, 1);
    assert.equal(byId.get(3)!.rcode, 'NXDOMAIN');
    // And the connection stays open for more.
    const [again] = await exchange(sock, [buildQuery('www.dot.example.', 'A', { id: 4 })]);
    assert.equal(again.id, 4);
  } finally { sock.destroy(); }
});

test('a TLS 1.1 client is refused; a TLS 1.2 client is served', async () => {
  await assert.rejects(connect({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }));
  const sock = await connect({ maxVersion: 'TLSv1.2' });
  try {
    assert.equal(sock.getProtocol(), 'TLSv1.2');
    const [r] = await exchange(sock, [buildQuery('www.dot.example.', 'A')]);
    assert.equal(r.rcode, 'NOERROR');
  } finally { sock.destroy(); }
});

test('a reloaded certificate is used by the next handshake; an open connection keeps working', async () => {
  const old = await connect();
  try {
    assert.equal(old.getPeerCertificate().subject.CN, 'first.dot.test');
    selfSigned('second.dot.test');
    await s.reload();
    const fresh = await connect();
    try {
      assert.equal(fresh.getPeerCertificate().subject.CN, 'second.dot.test');
    } finally { fresh.destroy(); }
    const [r] = await exchange(old, [buildQuery('www.dot.example.', 'A')]);
    assert.deepEqual(r.answer, ['www.dot.example. A 300 192.0.2.80']);
  } finally { old.destroy(); }
});

test('a zone transfer over TLS (XoT, RFC 9103) carries the zone as over TCP; refused where TCP is', async () => {
  const t = { rejectUnauthorized: false, ALPNProtocols: ['dot'] };
  const records = (r: XfrResult) => r.records.map((x) => `${x.owner} ${x.type} ${x.rdata}`).sort();
  const refused = await xfr(s.dotPort(), xfrQuery('dot.example.', 'AXFR'), { tls: t });
  assert.equal(refused.rcode, 'REFUSED', 'no transfer settings yet: refused over TLS as over TCP');
  await s.db.pool.query(`INSERT INTO domain_transfer (domain_id, allow) SELECT id, '{127.0.0.0/8}'::cidr[] FROM domains WHERE name = 'dot.example.'`);
  await waitFor(() => s.transfer!.settings.get().domains.size > 0, 5000, 'transfer settings loaded');
  const overTls = await xfr(s.dotPort(), xfrQuery('dot.example.', 'AXFR'), { tls: t });
  const overTcp = await xfr(s.dnsPort(), xfrQuery('dot.example.', 'AXFR'));
  assert.equal(overTls.rcode, 'NOERROR');
  assert.ok(complete(overTls.records), 'the TLS transfer ends with the closing SOA');
  assert.deepEqual(records(overTls), records(overTcp));
  assert.ok(overTls.records.some((x) => x.owner.startsWith('www.dot.example') && x.type === 'A'), JSON.stringify(records(overTls)));
});
