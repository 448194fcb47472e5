// The Node UDP floor: a Node process set up as Glidepath's answering side is (node:cluster workers
// on one shared UDP socket, the same synchronous address lookup) that does no DNS work at all: it
// sends each query back with QR and AA set. Its queries per second are the most any Node 20 server
// built on node:dgram reaches on this machine, so Glidepath's figure can be read against it.
//   node dist/bench/floor/server.js PORT WORKERS   (WORKERS 0: one process)
import cluster from 'node:cluster';
import dgram from 'node:dgram';

const port = Number(process.argv[2]);
const workers = Number(process.argv[3] ?? 0);

if (cluster.isPrimary && workers > 0) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', () => process.exit(1)); // a floor that lost a worker measures nothing
  process.on('SIGTERM', () => {
    cluster.removeAllListeners('exit');
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  });
} else {
  const sock = dgram.createSocket({ type: 'udp4', lookup: (address, _family, callback) => callback(null, address, 4) });
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    msg[2] |= 0x84; // QR, AA
    sock.send(msg, rinfo.port, rinfo.address);
  });
  // The same receive buffer as Glidepath's (src/server/udp.ts), so a burst queues the same way.
  sock.bind(port, '127.0.0.1', () => { try { sock.setRecvBufferSize(4 << 20); } catch { /* system default */ } });
}
