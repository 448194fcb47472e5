// Both UDP I/O paths: the batched native addon (recvmmsg/sendmmsg, src/server/udp-native.ts) and
// node:dgram. Each answers a burst sent without waiting (many datagrams per batch), over IPv4 and
// IPv6, with the client's address right (a server cookie is bound to it). GLIDEPATH_UDP_IO=native
// without the addon is an error, not a silent fallback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { startTestServer, importText, type TestServer } from '../helpers/server.js';
import { buildQuery, parseResponse } from '../helpers/dig.js';
import { nativeUdp, nativeUdpError, ipv6Text } from '../../src/server/udp-native.js';
import { listenUdp } from '../../src/server/udp.js';
import { createLogger } from '../../src/log.js';

const ZONE = `$ORIGIN io.example.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 300
@ NS ns1
ns1 A 192.0.2.1
${Array.from({ length: 50 }, (_, i) => `h${i} A 192.0.2.${i + 10}`).join('\n')}
`;
const native = nativeUdp();
const paths = ['native', 'dgram'] as const;

async function server(io: 'native' | 'dgram', host = '127.0.0.1', cookies?: { enabled: boolean; secrets: string[]; require: boolean }): Promise<TestServer> {
  const s = await startTestServer({ api: null, udpIo: io, dns: [{ host, port: 0 }], cookies });
  await importText(s, ZONE);
  return s;
}

/** Sends `n` queries at once from one socket; resolves with the answers by id. */
function burst(port: number, host: string, n: number): Promise<Map<number, Buffer>> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const got = new Map<number, Buffer>();
    const done = () => { clearTimeout(t); sock.close(); resolve(got); };
    const t = setTimeout(done, 3000);
    sock.on('message', (m) => { got.set(m.readUInt16BE(0), m); if (got.size === n) done(); });
    sock.bind(0, host, () => {
      // The server runs in this process and answers a whole batch before this socket is read:
      // room for every answer (the default buffer holds about 200 of them).
      sock.setRecvBufferSize(4 << 20);
      for (let i = 0; i < n; i++) sock.send(buildQuery(`h${i % 50}.io.example`, 'A', { id: i }), port, host);
    });
  });
}

for (const io of paths) {
  const skip = io === 'native' && !native ? `the batched UDP addon did not build here (${nativeUdpError()})` : false;
  for (const host of ['127.0.0.1', '::1']) {
    test(`${io} over ${host}: a burst of 400 queries sent at once is answered, each with its own id and answer`, { skip }, async () => {
      const s = await server(io, host);
      const got = await burst(s.dnsPort(), host, 400);
      assert.equal(got.size, 400);
      for (const [id, m] of got) {
        const r = parseResponse(m);
        assert.equal(r.rcode, 'NOERROR');
        assert.deepEqual(r.answer, [`h${id % 50}.io.example. A 300 192.0.2.${(id % 50) + 10}`]);
      }
    });
  }
  test(`${io} over ::1: the client's address reaches the query path as node:dgram gives it (a cookie bound to it is valid)`, { skip }, async () => {
    const s = await server(io, '::1', { enabled: true, secrets: ['0f0e0d0c0b0a09080706050403020100'], require: true });
    const ask = (cookie: Buffer) => new Promise<Buffer>((resolve) => {
      const q = buildQuery('h1.io.example', 'A', { id: 7 });
      const m = Buffer.concat([q, Buffer.from([0, 10, 0, cookie.length]), cookie]);
      m.writeUInt16BE(4 + cookie.length, q.length - 2);
      const sock = dgram.createSocket('udp6');
      sock.on('message', (r) => { sock.close(); resolve(r); });
      sock.send(m, s.dnsPort(), '::1');
    });
    const first = await ask(Buffer.from('a1a2a3a4a5a6a7a8', 'hex'));
    assert.equal(parseResponse(first).opt?.extRcode, 1, 'BADCOOKIE (23 = 1 << 4 | 7)');
    const again = await ask(first.subarray(first.length - 24));
    assert.equal(parseResponse(again).rcode, 'NOERROR', 'the cookie made for ::1 is valid for the next query from ::1');
  });
}

test('GLIDEPATH_UDP_IO=dgram never loads the addon; auto takes it where it built', async () => {
  const ctx = { snapshot: () => { throw new Error('unused'); }, maxUdp: 1232, now: Date.now };
  const log = createLogger('silent');
  const d = await listenUdp({ host: '127.0.0.1', port: 0 }, ctx, log, 'dgram');
  assert.equal(d.io, 'dgram');
  await d.close();
  const a = await listenUdp({ host: '127.0.0.1', port: 0 }, ctx, log, 'auto');
  assert.equal(a.io, native ? 'native' : 'dgram');
  await a.close();
});

test('IPv6 addresses are written as node:dgram writes them (RFC 5952)', () => {
  const bytes = (hex: string) => Buffer.from(hex, 'hex');
  assert.equal(ipv6Text(bytes('00000000000000000000000000000001'), 0), '::1');
  assert.equal(ipv6Text(bytes('20010db8000000000000000000000053'), 0), '2001:db8::53');
  assert.equal(ipv6Text(bytes('20010db8000100000000000100000001'), 0), '2001:db8:1::1:0:1');
  assert.equal(ipv6Text(bytes('20010db8000000010001000100010001'), 0), '2001:db8:0:1:1:1:1:1', 'a single zero group stays');
  assert.equal(ipv6Text(bytes('00000000000000000000ffffc0000201'), 0), '::ffff:192.0.2.1');
  assert.equal(ipv6Text(bytes('fe800000000000000000000000000000'), 0), 'fe80::');
});
