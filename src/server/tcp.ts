// TCP listener as RFC 7766 asks: two-octet length framing (RFC 1035 4.2.2), several queries per
// connection answered as they are read (pipelining), partial reads and writes, an idle timeout,
// a bound on the time to receive one whole message (as Knot's tcp-io-timeout: a client trickling a
// byte at a time resets the idle timer forever), and a cap on connections that closes the
// longest-idle one to make room (RFC 7766 6.2.3).
import net from 'node:net';
import type { Logger } from 'pino';
import type { HostPort } from '../config.js';
import { handleStreamQuery, type QueryContext, type StreamAnswer } from './handle-query.js';
import { ListenError } from './listen-error.js';

export interface StreamOptions {
  idleMs: number;
  /** Once a message has begun, the rest of it must arrive within this time (slow-loris bound). */
  messageMs: number;
  maxConnections: number;
}

/** A connection as the table sees it: its last activity, and whether it is being drained. */
export interface StreamConn { touch(): void; readonly draining: boolean }

/** While draining, a connection that has been quiet this long is closed (gracefully, with a FIN). */
const DRAIN_QUIET_MS = 250;

export interface TcpListener { port: number; connections(): number; close(): Promise<void> }

/** Frames DNS messages on a byte stream and answers each; shared by TCP and TLS. A zone transfer
 *  answers with several messages, possibly after asynchronous work: reading stops while it is
 *  written (queries pipelined behind it wait their turn), and the ordinary path stays synchronous. */
export function serveStream(sock: net.Socket, ctx: QueryContext, log: Logger, opts: StreamOptions,
  conn: StreamConn): void {
  let pending: Buffer = Buffer.alloc(0);
  // RFC 7828 3.3.2: the idle timeout announced to clients that send edns-tcp-keepalive, in 100 ms
  // units; while draining, 0: "close this connection", which a conforming client does itself, so
  // no query of its crosses our FIN.
  const keepalive = Math.min(0xffff, Math.floor(opts.idleMs / 100));
  let busy = false;
  let waiting = false; // for 'drain' after a write the kernel could not take whole
  sock.setNoDelay(true);
  // A TLS socket (DoT): its responses are padded when the query was (RFC 8467 4.1).
  const tls = 'encrypted' in sock && sock.encrypted === true;
  // Idle (RFC 7766 6.2.3): cut. Draining: close with a FIN after what is owed has been written.
  sock.setTimeout(conn.draining ? DRAIN_QUIET_MS : opts.idleMs, () => {
    if (!conn.draining) { sock.destroy(); return; }
    // A transfer that is waiting (on the database, or on a slow reader) is not idle: it finishes,
    // and drain() ends the connection after it; the drain deadline still bounds the wait.
    if (busy) { sock.setTimeout(DRAIN_QUIET_MS); return; }
    sock.end();
  });
  sock.on('error', () => undefined); // resets and the like: the 'close' that follows cleans up
  // Slow-loris: from the first octet of a message (its length prefix), the whole of it must arrive
  // within messageMs. Not while a transfer is being written: reading is paused then, on our side.
  let partial: NodeJS.Timeout | undefined;
  const watchPartial = (consumed: boolean): void => {
    const waitingOnClient = !busy && pending.length > 0;
    if (partial !== undefined && (consumed || !waitingOnClient)) { clearTimeout(partial); partial = undefined; }
    if (waitingOnClient && partial === undefined) {
      partial = setTimeout(() => {
        log.debug({ from: sock.remoteAddress, octets: pending.length }, 'TCP message not received in time: closed');
        sock.destroy();
      }, opts.messageMs);
    }
  };
  sock.on('close', () => clearTimeout(partial));
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
        out = handleStreamQuery(msg, true, ctx, sock.remoteAddress ?? '', conn.draining ? 0 : keepalive, tls);
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
    watchPartial(off > 0);
    // Draining (shutdown, rolling restart): the FIN leaves right behind the answers just written,
    // so a client that waits for each answer never has a query in flight when the connection
    // closes; one that pipelines learns of the close with its answers and retries the rest
    // elsewhere (RFC 7766 6.2.3, 6.2.1.1). A transfer in progress finishes first.
    if (conn.draining && !busy && pending.length === 0) sock.end();
  };
  const writeAll = async (messages: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<void> => {
    try {
      for await (const m of messages) {
        if (sock.destroyed) return;
        conn.touch();
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
    conn.touch();
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    drain();
  });
}

/** Tracks open connections by last activity, closing the longest-idle one when over the cap. */
export class ConnectionTable {
  private readonly conns = new Map<net.Socket, { last: number; draining: boolean }>();
  private draining = false;
  constructor(private readonly max: number) {}

  add(sock: net.Socket): StreamConn {
    if (this.conns.size >= this.max) {
      let oldest: net.Socket | undefined;
      let t = Infinity;
      for (const [s, c] of this.conns) if (c.last < t) { t = c.last; oldest = s; }
      oldest?.destroy();
      if (oldest) this.conns.delete(oldest);
    }
    const state = { last: Date.now(), draining: this.draining, touch: () => { state.last = Date.now(); } };
    this.conns.set(sock, state);
    sock.on('close', () => this.conns.delete(sock));
    return state;
  }

  get size(): number { return this.conns.size; }

  /** Every connection closes after its next answer, or once quiet for DRAIN_QUIET_MS: no answer
   *  that is owed is lost, and no client is left waiting on a connection that will not answer. */
  drain(): void {
    this.draining = true;
    for (const [s, c] of this.conns) {
      c.draining = true;
      s.setTimeout(DRAIN_QUIET_MS);
    }
  }

  destroyAll(): void { for (const s of this.conns.keys()) s.destroy(); }
}

export async function listenTcp(addr: HostPort, ctx: QueryContext, log: Logger, opts: StreamOptions): Promise<TcpListener> {
  const table = new ConnectionTable(opts.maxConnections);
  const server = net.createServer((sock) => serveStream(sock, ctx, log, opts, table.add(sock)));
  return listenStreams(server, table, addr, 'tcp', log, drainDeadline(opts));
}

/** How long a draining connection may stay: a busy client gets until its idle timeout would have
 *  struck anyway, at least two seconds. */
export const drainDeadline = (o: StreamOptions) => Math.max(2000, o.idleMs);

/** Binds a TCP or TLS server; close() stops accepting, drains open connections (see
 *  ConnectionTable.drain) and cuts whatever is still open after drainMs. */
export async function listenStreams(server: net.Server, table: ConnectionTable, addr: HostPort, proto: string, log: Logger,
  drainMs: number): Promise<TcpListener> {
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
      const timer = setTimeout(() => table.destroyAll(), drainMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
