// UDP listener: one datagram in, at most one out, answered synchronously from the snapshot (an
// UPDATE's answer comes once its database write is done). Two ways to the same handle-query: the
// batched native addon (udp-native.ts) where it built, else node:dgram (GLIDEPATH_UDP_IO chooses;
// "auto" prefers the addon).
import dgram from 'node:dgram';
import cluster from 'node:cluster';
import { isIP, isIPv6 } from 'node:net';
import { lookup } from 'node:dns/promises';
import type { Logger } from 'pino';
import type { HostPort } from '../config.js';
import { handleStreamQuery, type QueryContext, type StreamAnswer } from './handle-query.js';
import { ListenError } from './listen-error.js';
import { nativeUdp, nativeUdpError, openNativeUdp } from './udp-native.js';

const UDP_RECV_BUFFER = 4 << 20;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

export interface UdpListener { port: number; io: 'native' | 'dgram'; close(): Promise<void> }

/** The one message a deferred answer (UPDATE) makes over UDP. */
export async function firstMessage(messages: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<Buffer | undefined> {
  for await (const m of messages) return m;
  return undefined;
}

export type UdpIo = 'auto' | 'native' | 'dgram';

/** node:dgram has reusePort from Node 22.12 (and 23.1). */
export function dgramReusePort(version = process.versions.node): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 12);
}

export async function listenUdp(addr: HostPort, ctx: QueryContext, log: Logger, io: UdpIo = 'dgram'): Promise<UdpListener> {
  const family = isIPv6(addr.host) ? 6 : 4;
  let host = addr.host;
  if (isIP(host) === 0) {
    // A listen name ("localhost") is resolved once, here, so the socket only ever sees literals.
    try { host = (await lookup(host, { family })).address; } catch (err) { throw new ListenError(addr, 'udp', err as Error); }
  }
  // Every answer goes to the numeric address its query came from. dgram's default lookup
  // (dns.lookup) answers even a literal on the next tick, so each answer went out through the
  // tick queue; handing it straight back sends it from the 'message' handler, about 1.5 us less
  // per answer on the bench machine.
  // In a worker of `serve --workers N` each worker binds its own socket with SO_REUSEPORT (the
  // kernel spreads datagrams over them); alone, the socket is ours only.
  const reusePort = cluster.isWorker;
  const a = io === 'dgram' ? null : nativeUdp();
  if (io === 'native' && !a) throw new ListenError(addr, 'udp', new Error(`GLIDEPATH_UDP_IO=native but the addon cannot load: ${nativeUdpError()}`));
  if (a) {
    try {
      const n = openNativeUdp(a, host, addr.port, family === 6, reusePort, UDP_RECV_BUFFER, ctx, log);
      return { port: n.port, io: 'native', close: async () => n.close() };
    } catch (err) {
      throw new ListenError(addr, 'udp', err as Error);
    }
  }
  const literal = (address: string, _family: unknown, callback: LookupCallback): void => callback(null, address, family);
  // On Node >= 22.12 a worker binds its own socket with reusePort (exclusive: not the cluster's
  // one shared socket, which wakes every worker for each datagram).
  const own = reusePort && dgramReusePort();
  const sock = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6, lookup: literal, ...(own ? { reusePort: true } : {}) });
  sock.on('message', (msg, rinfo) => {
    let out: StreamAnswer;
    try {
      out = handleStreamQuery(msg, false, ctx, rinfo.address);
    } catch (err) {
      // A bug must cost one answer, not the listener.
      log.error({ err, from: rinfo.address }, 'query handler failed');
      return;
    }
    if (out === null) return;
    // No callback: one less allocation per answer; send errors arrive as 'error' events (logged).
    if (Buffer.isBuffer(out)) { sock.send(out, rinfo.port, rinfo.address); return; }
    void firstMessage(out.messages).then((m) => { if (m) sock.send(m, rinfo.port, rinfo.address); },
      (err: unknown) => log.error({ err, from: rinfo.address }, 'query handler failed'));
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', (err) => reject(new ListenError(addr, 'udp', err)));
    sock.bind({ port: addr.port, address: host, exclusive: own }, () => resolve());
  });
  sock.on('error', (err) => log.warn({ err: err.message }, 'udp socket error'));
  // A burst must queue in the kernel, not be dropped: ask for a large receive buffer (Linux caps
  // it at net.core.rmem_max without error).
  try { sock.setRecvBufferSize(UDP_RECV_BUFFER); } catch { /* keep the system default */ }
  return {
    port: sock.address().port,
    io: 'dgram',
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}
