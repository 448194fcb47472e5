// Bursts over both UDP I/O paths, from a client in a process of its own (test/helpers/burst-client.ts):
// 4 bursts of 5,000 queries, each sent at once. The native path (recvmmsg/sendmmsg) must answer
// at least 99 % of them, as node:dgram does: a burst that fits the socket's receive buffer (4 MiB
// asked, about 10,000 small datagrams) is queued by the kernel, not dropped, while the server
// catches up. Both counts are printed, with the kernel's drop counters of each side's socket.
// Then the same from a node:dgram client in the server's own process, which reads 32 datagrams per
// turn of the event loop: the native path must not answer faster than such a neighbour can take
// (it answered 512 per turn once, and this client's socket overflowed with the large answers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startTestServer, importText } from '../helpers/server.js';
import dgram from 'node:dgram';
import { udpDrops } from '../helpers/udp-drops.js';
import { buildQuery } from '../helpers/dig.js';
import { nativeUdp, nativeUdpError } from '../../src/server/udp-native.js';

const run = promisify(execFile);
const CLIENT = fileURLToPath(new URL('../helpers/burst-client.js', import.meta.url));
const PER_BURST = 5000;
const BURSTS = 4;
const ZONE = `$ORIGIN burst.example.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 300
@ NS ns1
ns1 A 192.0.2.1
${Array.from({ length: 50 }, (_, i) => `h${i} A 192.0.2.${i + 10}`).join('\n')}
big TXT ${Array.from({ length: 4 }, (_, i) => `"${String(i).repeat(200)}"`).join(' ')}
`;

interface Outcome { sent: number; answered: number; ok: number; clientDrops?: number }

for (const io of ['native', 'dgram'] as const) {
  const skip = io === 'native' && !nativeUdp() ? `the batched UDP addon did not build here (${nativeUdpError()})` : false;
  test(`${io}: ${BURSTS} bursts of ${PER_BURST} queries from another process are answered (at least 99 %)`, { skip, timeout: 60_000 }, async () => {
    const s = await startTestServer({ api: null, udpIo: io });
    await importText(s, ZONE);
    const before = udpDrops(s.dnsPort(), '127.0.0.1');
    const { stdout } = await run(process.execPath, [CLIENT, String(s.dnsPort()), '127.0.0.1', String(PER_BURST), String(BURSTS)], { timeout: 45_000 });
    const o = JSON.parse(stdout) as Outcome;
    const serverDrops = before === undefined ? undefined : udpDrops(s.dnsPort(), '127.0.0.1')! - before;
    console.log(`# ${io}: ${o.ok} of ${o.sent} answered (server socket dropped ${serverDrops ?? '?'}, client socket ${o.clientDrops ?? '?'})`);
    assert.equal(o.sent, PER_BURST * BURSTS);
    assert.ok(o.ok >= 0.99 * o.sent, `${io} answered ${o.ok} of ${o.sent} (server socket dropped ${serverDrops}, client socket ${o.clientDrops})`);
  });
}

for (const io of ['native', 'dgram'] as const) {
  const skip = io === 'native' && !nativeUdp() ? `the batched UDP addon did not build here (${nativeUdpError()})` : false;
  test(`${io}: 5,000 queries with 800-octet answers from a node:dgram client in the server's process are answered (at least 99 %)`, { skip, timeout: 60_000 }, async () => {
    const s = await startTestServer({ api: null, udpIo: io });
    await importText(s, ZONE);
    const n = 5000;
    const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    const ids = new Set<number>();
    const all = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 10_000);
      sock.on('message', (m) => { if (m.length > 800) ids.add(m.readUInt16BE(0)); if (ids.size === n) { clearTimeout(t); resolve(); } });
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    // All sent in one turn of the event loop: the server reads none of them before the last.
    for (let i = 0; i < n; i++) sock.send(buildQuery('big.burst.example', 'TXT', { id: i }), s.dnsPort(), '127.0.0.1');
    await all;
    const drops = udpDrops(sock.address().port, '127.0.0.1');
    sock.close();
    console.log(`# ${io}, client in process: ${ids.size} of ${n} answered (client socket dropped ${drops ?? '?'})`);
    assert.ok(ids.size >= 0.99 * n, `${io} answered ${ids.size} of ${n} (this client's socket dropped ${drops})`);
  });
}
