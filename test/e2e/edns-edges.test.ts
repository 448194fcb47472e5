// Protocol edges of EDNS found comparing with NSD and Knot: OPT on every error to an EDNS query
// (RFC 6891 6.1.1), the DO bit echoed (RFC 3225 3), Extended DNS Errors (RFC 8914) and padding on
// DNS over TLS (RFC 7830, RFC 8467).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startTestServer, importText } from '../helpers/server.js';
import { query, buildQuery, exchange, parseResponse, type Response } from '../helpers/dig.js';
import { xfr, xfrQuery } from '../helpers/xfr.js';

const dir = mkdtempSync(join(tmpdir(), 'glidepath-edns-'));
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
  '-keyout', key, '-out', cert, '-subj', '/CN=edns.test'], { stdio: 'ignore' });

const s = await startTestServer({ api: null, dot: [{ host: '127.0.0.1', port: 0 }], tls: { certFile: cert, keyFile: key } });
await importText(s, `$ORIGIN edns.example.
$TTL 3600
@ SOA ns1 hostmaster 1 3600 600 86400 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.80
`);
const port = () => s.dnsPort();
const EDE = 15;
const PADDING = 12;

function ede(r: Response): { code: number; text: string } | undefined {
  const o = r.opt?.options.find((x) => x.code === EDE);
  return o ? { code: o.data.readUInt16BE(0), text: o.data.subarray(2).toString('utf8') } : undefined;
}

test('FORMERR to a question-less EDNS query carries OPT (RFC 6891 6.1.1), with DO echoed', async () => {
  const q = buildQuery('edns.example.', 'SOA', { do: true });
  // Drop the question: QDCOUNT 0, the OPT right after the header.
  const bare = Buffer.concat([q.subarray(0, 12), q.subarray(12 + 14 + 4)]);
  bare.writeUInt16BE(0, 4);
  const r = parseResponse(await exchange(port(), bare));
  assert.equal(r.rcode, 'FORMERR');
  assert.ok(r.opt, 'OPT present');
  assert.equal(r.opt.do, true);
  // Without EDNS, no OPT.
  const plain = buildQuery('edns.example.', 'SOA', { edns: null });
  const bare2 = plain.subarray(0, 12);
  bare2.writeUInt16BE(0, 4);
  const r2 = parseResponse(await exchange(port(), Buffer.from(bare2)));
  assert.equal(r2.rcode, 'FORMERR');
  assert.equal(r2.opt, undefined);
});

test('the DO bit is echoed (RFC 3225 3), also from the response cache, and not set when not asked', async () => {
  for (let i = 0; i < 2; i++) {
    const a = await query(port(), 'www.edns.example.', 'A', { do: true });
    assert.equal(a.opt?.do, true);
    const b = await query(port(), 'www.edns.example.', 'A');
    assert.equal(b.opt?.do, false);
  }
  const n = await query(port(), 'edns.example.', 'TYPE200', { do: true });
  assert.equal(n.opt?.do, true);
});

test('REFUSED for a name not served carries Extended DNS Error 20 Not Authoritative (RFC 8914)', async () => {
  const r = await query(port(), 'www.example.org.', 'A');
  assert.equal(r.rcode, 'REFUSED');
  assert.equal(ede(r)?.code, 20);
  assert.match(ede(r)!.text, /not a served domain/);
  const noEdns = await query(port(), 'www.example.org.', 'A', { edns: null });
  assert.equal(noEdns.opt, undefined);
});

test('transfers: NOTAUTH carries EDE 20, a refused transfer EDE 18 Prohibited', async () => {
  const withOpt = (name: string) => {
    const q = xfrQuery(name, 'AXFR');
    const opt = Buffer.from([0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0]);
    const out = Buffer.concat([q, opt]);
    out.writeUInt16BE(1, 10);
    return out;
  };
  const notauth = await xfr(port(), withOpt('nope.example.'));
  assert.equal(notauth.messages[0].rcode, 'NOTAUTH');
  assert.equal(ede(notauth.messages[0])?.code, 20);
  const refused = await xfr(port(), withOpt('edns.example.'));
  assert.equal(refused.messages[0].rcode, 'REFUSED');
  assert.equal(ede(refused.messages[0])?.code, 18);
});

function dot(queries: Buffer[]): Promise<Response[]> {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: '127.0.0.1', port: s.dotPort(), rejectUnauthorized: false, ALPNProtocols: ['dot'] }, () => {
      for (const q of queries) { const l = Buffer.alloc(2); l.writeUInt16BE(q.length); sock.write(Buffer.concat([l, q])); }
    });
    let buf = Buffer.alloc(0);
    const out: Response[] = [];
    sock.on('error', reject);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(parseResponse(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length === queries.length) { sock.end(); resolve(out); }
    });
  });
}

test('DoT: a padded query gets a response padded to a multiple of 468 octets (RFC 8467 4.1); unpadded, not padded', async () => {
  const pad = { code: PADDING, data: Buffer.alloc(20) };
  const [p, np, tcpPadded] = await Promise.all([
    dot([buildQuery('www.edns.example.', 'A', { options: [pad] }), buildQuery('nope.edns.example.', 'A', { options: [pad] })]),
    dot([buildQuery('www.edns.example.', 'A')]),
    exchange(port(), buildQuery('www.edns.example.', 'A', { options: [pad] }), { transport: 'tcp' }).then(parseResponse),
  ]);
  for (const r of p) {
    assert.equal(r.size % 468, 0, `padded size ${r.size}`);
    assert.ok(r.opt?.options.some((o) => o.code === PADDING));
  }
  assert.deepEqual(p[0].answer, ['www.edns.example. A 3600 192.0.2.80']);
  assert.ok(!np[0].opt?.options.some((o) => o.code === PADDING));
  assert.notEqual(np[0].size % 468, 0);
  // Plain TCP: no padding (it protects nothing there).
  assert.ok(!tcpPadded.opt?.options.some((o) => o.code === PADDING));
});

