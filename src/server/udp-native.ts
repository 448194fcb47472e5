// UDP through the batched native addon (native/udp_batch.c, Linux): one socket per worker, bound
// with SO_REUSEPORT so that each worker of `serve --workers N` has its own and the kernel spreads
// datagrams over them; recvmmsg hands a batch of queries to onBatch, which answers each with the
// same handleQuery as every other transport, and sendmmsg sends the batch's answers at once.
// Buffers are allocated once per socket; per query only the view of its bytes is made (and the
// client's address as a string when it differs from the previous query's).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { handleStreamQuery, type QueryContext, type StreamAnswer } from './handle-query.js';

interface Opened {
  handle: unknown;
  port: number;
  in: Buffer; inLen: Int32Array; peer: Buffer; out: Buffer; outLen: Int32Array;
}

interface Addon {
  open(host: string, port: number, v6: boolean, reusePort: boolean, rcvbuf: number, batch: number, slot: number, outSlot: number,
    onBatch: (n: number) => void): Opened;
  leave(handle: unknown): void;
  close(handle: unknown): void;
  stats(handle: unknown): [number, number, number];
  send(handle: unknown, data: Buffer, peer: Buffer): void;
}

const ADDON_PATH = fileURLToPath(new URL('../../../native/build/Release/udp_batch.node', import.meta.url));
let addon: Addon | null | undefined;
let loadError = '';

/** The addon, or null when it did not build (or cannot load here); the reason in nativeUdpError(). */
export function nativeUdp(): Addon | null {
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
    } catch (err) {
      addon = null;
      loadError = (err as Error).message.split('\n')[0];
    }
  }
  return addon;
}

export function nativeUdpError(): string { return loadError; }

/** Datagrams read per call (and per turn of the event loop: native/udp_batch.c ROUNDS), as many as
 *  libuv reads for a node:dgram socket per turn, so neither starves the other in one process; the
 *  syscalls are shared by 32 datagrams instead of 64, which measured the same CPU per query
 *  (bench/SWEEP.md). Queries longer than SLOT (none in practice) are dropped. */
const BATCH = 32;
const SLOT = 4096;
const PEER = 20;

/** RFC 5952 text of the IPv6 address at p[o, o + 16), as node:dgram gives it (the longest run of
 *  two or more zero groups shortened to ::; an IPv4-mapped address in its dotted form). */
export function ipv6Text(p: Uint8Array, o: number): string {
  const g: number[] = [];
  for (let k = 0; k < 8; k++) g.push((p[o + 2 * k] << 8) | p[o + 2 * k + 1]);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${p[o + 12]}.${p[o + 13]}.${p[o + 14]}.${p[o + 15]}`;
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

async function first(messages: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<Buffer | undefined> {
  for await (const m of messages) return m;
  return undefined;
}

export interface NativeUdpSocket { port: number; close(): void; stats(): [number, number, number] }

export function openNativeUdp(a: Addon, host: string, port: number, v6: boolean, reusePort: boolean, rcvbuf: number,
  ctx: QueryContext, log: Logger): NativeUdpSocket {
  const outSlot = Math.max(1232, ctx.maxUdp);
  // onBatch is called only from the event loop, after open() has returned `s`.
  const s: Opened = a.open(host, port, v6, reusePort, rcvbuf, BATCH, SLOT, outSlot, (n) => onBatch(n));
  // One view per slot, made once; a query is the first inLen[i] octets of it.
  const views = Array.from({ length: BATCH }, (_, i) => s.in.subarray(i * SLOT, (i + 1) * SLOT));
  const lastPeer = Buffer.alloc(PEER, 0xff); // no address starts with family 0xff
  let lastAddress = '';
  const address = (i: number): string => {
    const p = s.peer;
    const o = i * PEER;
    // The address without the port: clients such as dnsperf ask from a few ports of one address.
    if (p[o] === lastPeer[0] && p.compare(lastPeer, 4, PEER, o + 4, o + PEER) === 0) return lastAddress;
    p.copy(lastPeer, 0, o, o + PEER);
    if (p[o] === 4) lastAddress = `${p[o + 4]}.${p[o + 5]}.${p[o + 6]}.${p[o + 7]}`;
    else lastAddress = ipv6Text(p, o + 4);
    return lastAddress;
  };
  const onBatch = (n: number): void => {
    const { inLen, outLen, out } = s;
    for (let i = 0; i < n; i++) {
      const len = inLen[i];
      if (len < 0) continue; // longer than a slot: not a query we would answer
      let answer: StreamAnswer;
      try {
        // scratch: the answer is copied into its out slot right below, before the next query.
        answer = handleStreamQuery(views[i].subarray(0, len), false, ctx, address(i), undefined, false, true);
      } catch (err) {
        // A bug must cost one answer, not the listener.
        log.error({ err, from: address(i) }, 'query handler failed');
        continue;
      }
      if (answer === null) continue;
      if (!Buffer.isBuffer(answer)) {
        // A deferred answer (UPDATE, after its database write): sent on its own when it is ready.
        const peer = Buffer.from(s.peer.subarray(i * PEER, (i + 1) * PEER));
        void first(answer.messages).then((m) => { if (m && !closed) a.send(s.handle, m, peer); },
          (err: Error) => log.error({ err }, 'deferred udp answer failed'));
        continue;
      }
      if (answer.length > outSlot) continue;
      answer.copy(out, i * outSlot);
      outLen[i] = answer.length;
    }
  };
  let closed = false;
  return {
    port: s.port,
    close: () => {
      if (closed) return;
      closed = true;
      // Out of the SO_REUSEPORT group first, answering what is already queued: the other workers'
      // sockets take every new datagram, so a rolling restart loses none.
      try { a.leave(s.handle); } catch (err) { log.warn({ err: (err as Error).message }, 'udp drain failed'); }
      a.close(s.handle);
    },
    stats: () => a.stats(s.handle),
  };
}
