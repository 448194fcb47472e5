// TCP listener as RFC 7766 asks: two-octet length framing (RFC 1035 4.2.2), several queries per
// connection answered as they are read (pipelining), partial reads and writes, an idle timeout,
// and a cap on connections that closes the longest-idle one to make room (RFC 7766 6.2.3).
import net from 'node:net';
import type { Logger } from 'pino';
import type { HostPort } from '../config.js';
import { handleStreamQuery, type QueryContext, type StreamAnswer } from './handle-query.js';
import { ListenError } from './listen-error.js';

export interface StreamOptions { idleMs: number; maxConnections: number }

export interface TcpListener { port: number; connections(): number; close(): Promise<void> }

/** Frames DNS messages on a byte stream and answers each; shared by TCP and TLS. A zone transfer
 *  answers with several messages, possibly after asynchronous work: reading stops while it is
 *  written (queries pipelined behind it wait their turn), and the ordinary path stays synchronous. */
export function serveStream(sock: net.Socket, ctx: QueryContext, log: Logger, opts: StreamOptions,
  touched: () => void): void {
  let pending: Buffer = Buffer.alloc(0);
  let busy = false;
  let waiting = false; // for 'drain' after a write the kernel could not take whole
  sock.setNoDelay(true);
  sock.setTimeout(opts.idleMs, () => sock.destroy());
  sock.on('error', () => undefined); // resets and the like: the 'close' that follows cleans up
  const send = (out: Buffer): boolean => {
    const framed = Buffer.allocUnsafe(out.length + 2);
    framed.writeUInt16BE(out.length, 0);
    out.copy(framed, 2);
    return sock.write(framed);
  };
  const drain = (): void => {
    let off = 0;
    while (!busy && pending.length - off >= 2) {
      const len = pending.readUInt16BE(off);
      if (pending.length - off - 2 < len) break;
      const msg = pending.subarray(off + 2, off + 2 + len);
      off += 2 + len;
      let out: StreamAnswer = null;
      try {
        out = handleStreamQuery(msg, true, ctx, sock.remoteAddress ?? '');
      } catch (err) {
        log.error({ err }, 'query handler failed');
      }
      if (out === null) continue;
      if (Buffer.isBuffer(out)) {
        // Back-pressure: stop reading while the client does not read its answers.
        if (!send(out) && !waiting) {
          waiting = true;
          sock.pause();
          sock.once('drain', () => { waiting = false; if (!busy) sock.resume(); });
        }
        continue;
      }
      busy = true;
      sock.pause();
      void writeAll(out.messages).finally(() => {
        busy = false;
        if (sock.destroyed) return;
        sock.resume();
        drain();
      });
    }
    pending = off === pending.length ? Buffer.alloc(0) : pending.subarray(off);
  };
  const writeAll = async (messages: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<void> => {
    try {
      for await (const m of messages) {
        if (sock.destroyed) return;
        touched();
        if (!send(m)) {
          await new Promise<void>((r) => {
            const done = () => { sock.off('drain', done); sock.off('close', done); r(); };
            sock.on('drain', done);
            sock.on('close', done);
          });
        }
      }
    } catch (err) {
      log.error({ err }, 'transfer failed');
      sock.destroy();
    }
  };
  sock.on('data', (chunk: Buffer) => {
    touched();
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    drain();
  });
}

/** Tracks open connections by last activity, closing the longest-idle one when over the cap. */
export class ConnectionTable {
  private readonly last = new Map<net.Socket, number>();
  constructor(private readonly max: number) {}

  add(sock: net.Socket): () => void {
    if (this.last.size >= this.max) {
      let oldest: net.Socket | undefined;
      let t = Infinity;
      for (const [s, at] of this.last) if (at < t) { t = at; oldest = s; }
      oldest?.destroy();
      if (oldest) this.last.delete(oldest);
    }
    this.last.set(sock, Date.now());
    sock.on('close', () => this.last.delete(sock));
    return () => { if (this.last.has(sock)) this.last.set(sock, Date.now()); };
  }

  get size(): number { return this.last.size; }

  /** Ends every connection after its pending answers are written. */
  drain(): void { for (const s of this.last.keys()) s.end(); }
  destroyAll(): void { for (const s of this.last.keys()) s.destroy(); }
}

export async function listenTcp(addr: HostPort, ctx: QueryContext, log: Logger, opts: StreamOptions): Promise<TcpListener> {
  const table = new ConnectionTable(opts.maxConnections);
  const server = net.createServer((sock) => serveStream(sock, ctx, log, opts, table.add(sock)));
  return listenStreams(server, table, addr, 'tcp', log);
}

/** Binds a TCP or TLS server; close() stops accepting, lets open connections write what they owe,
 *  and cuts whatever is left after two seconds. */
export async function listenStreams(server: net.Server, table: ConnectionTable, addr: HostPort, proto: string, log: Logger): Promise<TcpListener> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new ListenError(addr, proto, err)));
    server.listen({ port: addr.port, host: addr.host, ipv6Only: addr.host.includes(':') }, () => resolve());
  });
  server.on('error', (err) => log.warn({ err: err.message }, `${proto} listener error`));
  const a = server.address();
  return {
    port: typeof a === 'object' && a ? a.port : addr.port,
    connections: () => table.size,
    close: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      table.drain();
      const timer = setTimeout(() => table.destroyAll(), 2000);
      await closed;
      clearTimeout(timer);
    },
  };
}
