// Slow-loris (issue 14 item 8), over real TCP and TLS sockets: a client that trickles a query one
// octet every 250 ms keeps resetting the idle timer; it must be closed once its message has taken
// longer than GLIDEPATH_TCP_MESSAGE_MS (1 s here) to arrive. A query split over two writes, and a
// pause between whole queries (idle, not a partial message), still get their answers.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, importText } from '../helpers/server.js';
import { buildQuery, parseResponse } from '../helpers/dig.js';

const MESSAGE_MS = 1000;
const dir = mkdtempSync(join(tmpdir(), 'glidepath-loris-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
  '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=loris.test'], { stdio: 'ignore' });

const s = await startTestServer({
  api: null, tcpIdleMs: 10_000, tcpMessageMs: MESSAGE_MS,
  dot: [{ host: '127.0.0.1', port: 0 }], tls: { certFile: cert, keyFile: key },
});
await importText(s, '$ORIGIN loris.example.\n@ 3600 SOA ns1 hostmaster 1 3600 600 86400 300\n@ 3600 NS ns1\nns1 3600 A 192.0.2.1\n');

type Sock = net.Socket | tls.TLSSocket;
const open = (kind: 'tcp' | 'tls'): Promise<Sock> => new Promise((resolve, reject) => {
  const sock: Sock = kind === 'tcp'
    ? net.connect({ host: '127.0.0.1', port: s.dnsPort() }, () => resolve(sock))
    : tls.connect({ host: '127.0.0.1', port: s.dotPort(), rejectUnauthorized: false, ALPNProtocols: ['dot'] }, () => resolve(sock));
  sock.once('error', reject);
});

const framed = (id: number) => {
  const q = buildQuery('ns1.loris.example', 'A', { id, edns: null });
  const out = Buffer.alloc(q.length + 2);
  out.writeUInt16BE(q.length, 0);
  q.copy(out, 2);
  return out;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Trickles one query an octet every 250 ms; resolves with when the server closed, and how many
 *  octets had been sent by then (or all of them and null when it never closed). */
async function trickle(sock: Sock): Promise<{ closedAfterMs: number | null; sent: number; total: number }> {
  const bytes = framed(7);
  let closedAt: number | null = null;
  sock.on('error', () => undefined);
  sock.on('close', () => { closedAt ??= Date.now(); });
  const t0 = Date.now();
  let sent = 0;
  for (; sent < bytes.length && closedAt === null; sent++) {
    sock.write(bytes.subarray(sent, sent + 1));
    await sleep(250);
  }
  return { closedAfterMs: closedAt === null ? null : closedAt - t0, sent, total: bytes.length };
}

for (const kind of ['tcp', 'tls'] as const) {
  test(`${kind}: a client trickling one octet every 250 ms is closed within the message bound`, async () => {
    const sock = await open(kind);
    const r = await trickle(sock);
    sock.destroy();
    assert.notEqual(r.closedAfterMs, null, `never closed: sent all ${r.total} octets over ${r.total * 250} ms`);
    assert.ok(r.sent < r.total, `closed only after the whole message (${r.sent}/${r.total})`);
    // One message bound from the first octet, plus the 250 ms step and scheduling slack.
    assert.ok(r.closedAfterMs! < MESSAGE_MS + 1000, `closed after ${r.closedAfterMs} ms`);
  });

  test(`${kind}: a query in two writes, and a pause longer than the bound between queries, are answered`, async () => {
    const sock = await open(kind);
    const answers: number[] = [];
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        answers.push(parseResponse(buf.subarray(2, 2 + buf.readUInt16BE(0))).id);
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
    });
    const q1 = framed(1);
    sock.write(q1.subarray(0, 5));
    await sleep(300);
    sock.write(q1.subarray(5));
    await sleep(MESSAGE_MS + 500); // idle between messages: only the idle timeout (10 s) applies
    sock.write(framed(2));
    await sleep(300);
    assert.deepEqual(answers, [1, 2]);
    assert.equal(sock.destroyed, false);
    sock.destroy();
  });
}
