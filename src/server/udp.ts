// UDP listener: one datagram in, at most one out, answered synchronously from the snapshot.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import type { HostPort } from '../config.js';
import { handleQuery, type QueryContext } from './handle-query.js';
import { ListenError } from './listen-error.js';

const UDP_RECV_BUFFER = 4 << 20;

export interface UdpListener { port: number; close(): Promise<void> }

export async function listenUdp(addr: HostPort, ctx: QueryContext, log: Logger): Promise<UdpListener> {
  const sock = dgram.createSocket({ type: isIPv6(addr.host) ? 'udp6' : 'udp4', ipv6Only: isIPv6(addr.host) });
  sock.on('message', (msg, rinfo) => {
    let out: Buffer | null;
    try {
      out = handleQuery(msg, false, ctx, rinfo.address);
    } catch (err) {
      // A bug must cost one answer, not the listener.
      log.error({ err, from: rinfo.address }, 'query handler failed');
      return;
    }
    // No callback: one less allocation per answer; send errors arrive as 'error' events (logged).
    if (out) sock.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', (err) => reject(new ListenError(addr, 'udp', err)));
    sock.bind(addr.port, addr.host, () => resolve());
  });
  sock.on('error', (err) => log.warn({ err: err.message }, 'udp socket error'));
  // A burst must queue in the kernel, not be dropped: ask for a large receive buffer (Linux caps
  // it at net.core.rmem_max without error).
  try { sock.setRecvBufferSize(UDP_RECV_BUFFER); } catch { /* keep the system default */ }
  return {
    port: sock.address().port,
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}
