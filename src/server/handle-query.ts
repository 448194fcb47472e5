// The query path, shared by UDP, TCP and TLS: bytes -> decode -> find the domain and answer
// (RFC 1034 4.3.2) -> PZC cap -> encode. Synchronous and free of I/O: it reads the snapshot that is
// current when the packet arrives and returns the response bytes (or null to drop). Signed queries
// and AXFR/IXFR go to the transfer side (ctx.transfer, src/transfer/service.ts), which may answer
// a TCP transfer with a stream of messages.
import { decodeQuery } from '../dns/query.js';
import { RCODE, TYPE, CLASS_IN, CLASS_CH } from '../dns/constants.js';
import { resolve } from '../answer/resolve.js';
import { encodeAnswer, encodeError, responseLimit } from '../answer/encode.js';
import { encodeChaos, type ServerIdentity } from '../answer/chaos.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { QueryStats } from './query-stats.js';
import type { ResponseCache, CacheProbe } from './response-cache.js';
import type { Query } from '../dns/query.js';

/** Several messages for one query (a zone transfer), possibly produced asynchronously. */
export interface StreamedAnswer { readonly messages: AsyncIterable<Buffer> | Iterable<Buffer> }
export type StreamAnswer = Buffer | null | StreamedAnswer;

export interface TransferPath {
  /** Signed queries (TSIG) and AXFR/IXFR. `plain` answers the query the ordinary way. */
  answer(msg: Uint8Array, q: Query, peer: string, tcp: boolean, plain: () => Buffer | null): StreamAnswer;
}

export interface QueryContext {
  snapshot(): Snapshot;
  /** Largest UDP payload we send (GLIDEPATH_UDP_MAX_PAYLOAD). */
  readonly maxUdp: number;
  now(): number;
  readonly stats?: QueryStats;
  readonly cache?: ResponseCache;
  /** Zone transfers and TSIG; without it AXFR/IXFR are REFUSED and TSIG is ignored. */
  readonly transfer?: TransferPath;
  /** Who this node is (GLIDEPATH_NODE_ID, GLIDEPATH_VERSION): NSID and CHAOS id.server (RFC 5001, 4892). */
  readonly identity?: ServerIdentity;
}

/** One datagram in, at most one out (UDP). `peer`: the client address, for transfer access control. */
export function handleQuery(msg: Uint8Array, tcp: boolean, ctx: QueryContext, peer = ''): Buffer | null {
  const out = handleStreamQuery(msg, tcp, ctx, peer);
  return out === null || Buffer.isBuffer(out) ? out : null; // a stream is only made for TCP
}

/** As handleQuery, for byte streams (TCP, TLS): a transfer may answer with several messages.
 *  `keepalive`: the idle timeout this connection announces to clients that ask (RFC 7828), in
 *  100 ms units; 0 while the server drains it. */
export function handleStreamQuery(msg: Uint8Array, tcp: boolean, ctx: QueryContext, peer: string, keepalive?: number): StreamAnswer {
  if (!ctx.stats) return answerQuery(msg, tcp, ctx, peer, keepalive);
  const t0 = performance.now();
  const out = answerQuery(msg, tcp, ctx, peer, keepalive);
  ctx.stats.observe(performance.now() - t0);
  return out;
}

function answerQuery(msg: Uint8Array, tcp: boolean, ctx: QueryContext, peer: string, keepalive: number | undefined): StreamAnswer {
  const snap = ctx.snapshot();
  // Fast path: a cached response to the same question, patched for this query.
  const probe = ctx.cache?.probe(msg, tcp);
  if (probe) {
    const hit = ctx.cache!.get(probe, msg, snap);
    if (hit) {
      ctx.stats?.count(probe.qtype, ctx.cache!.hitRcode);
      return hit;
    }
  }
  const d = decodeQuery(msg);
  if (d.kind === 'drop') return null;
  if (d.kind === 'error') {
    ctx.stats?.count(d.query?.qtype ?? 0, d.rcode);
    return encodeError(msg, d.id, d.opcode, d.rd, d.rcode, d.query, d.edns, ctx.maxUdp, ctx.identity?.nsid);
  }
  const q = d.query;
  const xfr = q.qtype === TYPE.AXFR || q.qtype === TYPE.IXFR;
  if (ctx.transfer && (q.signed || xfr)) {
    if (xfr) ctx.stats?.count(q.qtype, RCODE.NOERROR);
    return ctx.transfer.answer(msg, q, peer, tcp, () => plainAnswer(msg, q, tcp, ctx, snap, undefined, keepalive));
  }
  return plainAnswer(msg, q, tcp, ctx, snap, probe, keepalive);
}

function plainAnswer(msg: Uint8Array, q: Query, tcp: boolean, ctx: QueryContext, snap: Snapshot, probe: CacheProbe | undefined,
  keepalive: number | undefined): Buffer {
  if (q.qclass === CLASS_CH && ctx.identity) { // which node answered (RFC 4892)
    const c = encodeChaos(msg, q, ctx.identity, tcp, ctx.maxUdp);
    ctx.stats?.count(q.qtype, c.rcode);
    return c.out;
  }
  let rcode: number = RCODE.NOERROR;
  if (q.qclass !== CLASS_IN) rcode = RCODE.REFUSED; // we serve class IN only
  else if (q.qtype === TYPE.AXFR || q.qtype === TYPE.IXFR) rcode = RCODE.REFUSED; // no transfer side configured
  else if (q.qtype === TYPE.OPT || (q.qtype >= 128 && q.qtype < 255)) rcode = RCODE.NOTIMP; // MAILA, MAILB, TKEY...
  if (rcode !== RCODE.NOERROR) {
    ctx.stats?.count(q.qtype, rcode);
    return encodeError(msg, q.id, q.opcode, q.rd, rcode, q, q.edns, ctx.maxUdp, ctx.identity?.nsid);
  }
  const ans = resolve(snap, q, ctx.now());
  ctx.stats?.count(q.qtype, ans.rcode);
  const out = encodeAnswer(msg, q, ans, { size: responseLimit(q.edns, tcp, ctx.maxUdp), advertise: ctx.maxUdp, keepalive: tcp ? keepalive : undefined,
    nsid: ctx.identity?.nsid });
  if (probe) ctx.cache!.set(probe, out, ans.domain, snap, ans.rcode);
  return out;
}
