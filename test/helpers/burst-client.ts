// A UDP client in a process of its own (test/server/udp-burst.test.ts): sends bursts of queries as
// fast as its socket takes them and counts the answers. In the server's own process a node:dgram
// client reads at most 32 datagrams per turn of the event loop while the native path answers up to
// 512 per turn, so there the answers overflow the client's socket, not the server's: a burst test
// must not measure its own client.
//
// node burst-client.js PORT HOST PER_BURST BURSTS -> one JSON line on stdout:
//   { sent, answered, ok, clientDrops }  (ok: answers with the right id and a NOERROR rcode)
import dgram from 'node:dgram';
import { buildQuery } from './dig.js';
import { udpDrops } from './udp-drops.js';

const [port, host, perBurst, bursts] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
const sock = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
const seen = new Set<number>();
let answered = 0;
let ok = 0;
let wake: (() => void) | undefined;
let want = 0;
sock.on('message', (m) => {
  answered++;
  const id = m.readUInt16BE(0);
  // QR set, RCODE 0, and an id of this burst not seen before.
  if ((m[2] & 0x80) && (m[3] & 0x0f) === 0 && !seen.has(id)) { seen.add(id); ok++; }
  if (answered >= want) wake?.();
});
await new Promise<void>((r) => sock.bind(0, host, () => r()));
const queries = Array.from({ length: perBurst }, (_, i) => buildQuery(`h${i % 50}.burst.example`, 'A', { id: i }));
for (let b = 0; b < bursts; b++) {
  seen.clear();
  want = answered + perBurst;
  // All at once: each send is handed to the kernel before the next (node:dgram tries a
  // synchronous send first), so the burst reaches the server's socket together.
  for (const q of queries) sock.send(q, port, host);
  await new Promise<void>((r) => { const t = setTimeout(r, 3000); wake = () => { clearTimeout(t); r(); }; });
}
// Late answers of the last burst.
await new Promise((r) => setTimeout(r, 100));
process.stdout.write(`${JSON.stringify({ sent: perBurst * bursts, answered, ok, clientDrops: udpDrops(sock.address().port, host) })}\n`);
sock.close();
