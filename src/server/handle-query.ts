// The query path, shared by UDP, TCP and TLS: bytes -> decode -> DNS cookie check -> find the
// domain and answer (RFC 1034 4.3.2) -> PZC cap -> encode -> response rate limit (UDP) -> cookie.
// Synchronous and free of I/O: it reads the snapshot that is current when the packet arrives and
// returns the response bytes (or null to drop). Signed queries and AXFR/IXFR go to the transfer
// side (ctx.transfer, src/transfer/service.ts), which may answer a TCP transfer with a stream of
// messages; UPDATE (RFC 2136) goes to the update side (ctx.update, src/update/service.ts), whose
// one answer comes after the database write, over UDP or TCP.
import { decodeQuery } from '../dns/query.js';
import { RCODE, TYPE, CLASS_IN, CLASS_CH, OPCODE, EDE } from '../dns/constants.js';
import { signAnswer, activeKey } from '../answer/dnssec.js';
import type { SignatureCache } from '../dnssec/sign.js';
import { resolve } from '../answer/resolve.js';
import { encodeAnswer, encodeError, responseLimit } from '../answer/encode.js';
import { encodeChaos, type ServerIdentity } from '../answer/chaos.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { QueryStats } from './query-stats.js';
import type { DomainCounts } from './domain-counts.js';
import type { ResponseCache, CacheProbe } from './response-cache.js';
import type { Query } from '../dns/query.js';
import type { Domain } from '../snapshot/domain.js';
import { COOKIE_OPTION_SIZE } from '../dns/cookie.js';
import { MALFORMED, type Cookies, type CookieState } from './cookies.js';
import { PASS, SLIP, type ResponseRateLimiter } from './rrl.js';

/** RFC 8914 4.1: a signature that could not be made is a server failure, said as such. */
const SIGNING_FAILED = { code: EDE.OTHER, text: 'DNSSEC signing failed' };

/** Several messages for one query (a zone transfer), possibly produced asynchronously. */
export interface StreamedAnswer { readonly messages: AsyncIterable<Buffer> | Iterable<Buffer> }
export type StreamAnswer = Buffer | null | StreamedAnswer;

export interface TransferPath {
  /** Signed queries (TSIG) and AXFR/IXFR. `plain` answers the query the ordinary way. */
  answer(msg: Uint8Array, q: Query, peer: string, tcp: boolean, plain: () => Buffer | null): StreamAnswer;
}

export interface UpdatePath {
  /** An opcode-UPDATE message (RFC 2136): one answer, after the write. */
  answer(msg: Uint8Array, q: Query, peer: string): StreamAnswer;
}

export interface QueryContext {
  snapshot(): Snapshot;
  /** Largest UDP payload we send (GLIDEPATH_UDP_MAX_PAYLOAD). */
  readonly maxUdp: number;
  now(): number;
  readonly stats?: QueryStats;
  /** Per-domain counts (GLIDEPATH_STATS): every answer from a domain, by type and rcode. */
  readonly domainCounts?: DomainCounts;
  readonly cache?: ResponseCache;
  /** DNSSEC signatures per RRset version; without it nothing is signed. */
  readonly signatures?: SignatureCache;
  /** Zone transfers and TSIG; without it AXFR/IXFR are REFUSED and TSIG is ignored. */
  readonly transfer?: TransferPath;
  /** DNS cookies (RFC 7873, RFC 9018); without it COOKIE options are ignored. */
  readonly cookies?: Cookies;
  /** Response rate limiting of UDP answers; without it nothing is limited. */
  readonly rrl?: ResponseRateLimiter;
  /** Dynamic UPDATE; without it UPDATE is NOTIMP. */
  readonly update?: UpdatePath;
  /** Who this node is (GLIDEPATH_NODE_ID, GLIDEPATH_VERSION): NSID and CHAOS id.server (RFC 5001, 4892). */
  readonly identity?: ServerIdentity;
}

/** One datagram in, at most one out, synchronously. `peer`: the client address, for transfer access
 *  control. An answer that needs the database (UPDATE) is dropped here: the UDP listener uses
 *  handleStreamQuery and sends the one message of such a stream when it is ready. */
export function handleQuery(msg: Uint8Array, tcp: boolean, ctx: QueryContext, peer = ''): Buffer | null {
  const out = handleStreamQuery(msg, tcp, ctx, peer);
  return out === null || Buffer.isBuffer(out) ? out : null;
}

/** As handleQuery, for byte streams (TCP, TLS): a transfer may answer with several messages.
 *  `keepalive`: the idle timeout this connection announces to clients that ask (RFC 7828), in
 *  100 ms units; 0 while the server drains it. `scratch`: for a caller that copies the answer
 *  away before the next query (the native UDP path): an answer, hit or encoded, may then be a view
 *  of memory the next one reuses. A Buffer of its own per answer is memory outside the V8 heap,
 *  and each 64 MB of that makes V8 start a full mark of the heap ("external memory pressure"): at
 *  a million domains a 1.3 GB mark, most of a second of a worker's time, every few seconds under load. */
export function handleStreamQuery(msg: Uint8Array, tcp: boolean, ctx: QueryContext, peer: string, keepalive?: number, tls = false,
  scratch = false): StreamAnswer {
  if (!ctx.stats) return answerQuery(msg, tcp, ctx, peer, keepalive, tls, scratch);
  const t0 = performance.now();
  const out = answerQuery(msg, tcp, ctx, peer, keepalive, tls, scratch);
  ctx.stats.observe(performance.now() - t0);
  return out;
}

function answerQuery(msg: Uint8Array, tcp: boolean, ctx: QueryContext, peer: string, keepalive: number | undefined, tls: boolean,
  scratch: boolean): StreamAnswer {
  const snap = ctx.snapshot();
  // Fast path: a cached response to the same question, patched for this query. (A padded query
  // has an option, so it never probes: its padding depends on the transport.)
  const probe = ctx.cache?.probe(msg, tcp);
  // RFC 7873 5.2: the server cookie is made per client (its address and client cookie), so it is
  // never cached: the answer is, and the COOKIE option is added to each hit. A query the policy
  // refuses (BADCOOKIE) takes the full path.
  const hitCookie = probe?.cookieLen && ctx.cookies ? ctx.cookies.read(msg, probe.cookieAt, probe.cookieLen, peer, ctx.now()) : undefined;
  if (probe && !(hitCookie && !hitCookie.valid && !tcp && ctx.cookies!.require)) {
    const hit = ctx.cache!.get(probe, msg, snap, scratch);
    if (hit) {
      countAnswer(ctx, ctx.cache!.hitDomainIndex, probe.qtype, ctx.cache!.hitRcode);
      if (ctx.stats) ctx.stats.cacheHits++;
      const out = tcp || !ctx.rrl ? hit : rateLimit(msg, hit, probe.questionEnd, ctx.cache!.hitDomain, hitCookie, peer, ctx);
      return hitCookie && out === hit ? ctx.cookies!.attach(hit, hitCookie, ctx.now()) : out;
    }
  }
  const d = decodeQuery(msg);
  if (d.kind === 'drop') return null;
  if (d.kind === 'error') {
    ctx.stats?.count(d.query?.qtype ?? 0, d.rcode);
    const out = encodeError(msg, d.id, d.opcode, d.rd, d.rcode, d.query, d.edns, ctx.maxUdp, ctx.identity?.nsid);
    return tcp || !ctx.rrl ? out : rateLimit(msg, out, d.query?.questionEnd ?? 12, undefined, undefined, peer, ctx);
  }
  const q = d.query;
  if (q.opcode === OPCODE.UPDATE) {
    ctx.stats?.count(q.qtype, RCODE.NOERROR);
    return ctx.update ? ctx.update.answer(msg, q, peer) : encodeError(msg, q.id, q.opcode, q.rd, RCODE.NOTIMP, q, q.edns, ctx.maxUdp, ctx.identity?.nsid);
  }
  const xfr = q.qtype === TYPE.AXFR || q.qtype === TYPE.IXFR;
  if (ctx.transfer && (q.signed || xfr)) {
    if (xfr) countAnswer(ctx, indexOf(ctx.domainCounts && snap.findDomain(q.keys)), q.qtype, RCODE.NOERROR); // as asked: the transfer side decides
    return ctx.transfer.answer(msg, q, peer, tcp, () => plainAnswer(msg, q, tcp, ctx, snap, undefined, keepalive, tls, 0));
  }
  // RFC 7873 5.2: a malformed COOKIE option is FORMERR; a query without a valid server cookie may
  // be refused with BADCOOKIE (over UDP only: TCP proves the address).
  const cookie = ctx.cookies?.check(msg, q, peer, ctx.now());
  if (cookie === MALFORMED) {
    ctx.stats?.count(q.qtype, RCODE.FORMERR);
    return encodeError(msg, q.id, q.opcode, q.rd, RCODE.FORMERR, q, q.edns, ctx.maxUdp);
  }
  if (cookie && !cookie.valid && !tcp && ctx.cookies!.require) return badCookie(msg, q, cookie, ctx);
  let out = plainAnswer(msg, q, tcp, ctx, snap, probe, keepalive, tls, cookie ? COOKIE_OPTION_SIZE : 0, scratch);
  if (!tcp && ctx.rrl) {
    const limited = rateLimit(msg, out, q.questionEnd, answered, cookie, peer, ctx);
    if (limited !== out) return limited;
  }
  if (cookie) out = ctx.cookies!.attach(out, cookie, ctx.now());
  return out;
}

/** The domain the last plainAnswer came from (answers are synchronous: read right after). */
let answered: Domain | undefined;

/** `reserve`: octets left free for options added after encoding (the cookie). */
function plainAnswer(msg: Uint8Array, q: Query, tcp: boolean, ctx: QueryContext, snap: Snapshot, probe: CacheProbe | undefined,
  keepalive: number | undefined, tls: boolean, reserve: number, scratch = false): Buffer {
  answered = undefined;
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
  const now = ctx.now();
  const ans = resolve(snap, q, now);
  answered = ans.domain;
  // RFC 4035 3.1: signatures and proofs only for a query with DO, to a signed domain.
  let renew = Infinity;
  if (q.edns?.do && ctx.signatures && activeKey(ans.domain)) {
    try {
      renew = signAnswer(ans, { cache: ctx.signatures, nowSec: Math.floor(now / 1000), qnameLabels: q.labels, co: q.edns.co });
    } catch {
      countAnswer(ctx, indexOf(ans.domain), q.qtype, RCODE.SERVFAIL);
      return encodeError(msg, q.id, q.opcode, q.rd, RCODE.SERVFAIL, q, q.edns, ctx.maxUdp, ctx.identity?.nsid, SIGNING_FAILED);
    }
  }
  countAnswer(ctx, indexOf(ans.domain), q.qtype, ans.rcode);
  const out = encodeAnswer(msg, q, ans, { size: responseLimit(q.edns, tcp, ctx.maxUdp) - reserve, advertise: ctx.maxUdp, keepalive: tcp ? keepalive : undefined,
    nsid: ctx.identity?.nsid, pad: tls && reserve === 0, scratch });
  // Cached without the cookie, which the caller adds (and each hit): a query with a COOKIE option
  // is keyed apart, and its answer left room for the option.
  if (probe && (reserve > 0) === (probe.cookieLen > 0)) ctx.cache!.set(probe, out, ans.domain, snap, ans.rcode, renew === Infinity ? 0 : renew);
  return out;
}

/** An answer for the counters: the node's (by type and rcode) and, when it came from a domain, the
 *  domain's (per-domain statistics, kept in memory and written in batches by stats-flusher.ts). */
function countAnswer(ctx: QueryContext, domainIndex: number, qtype: number, rcode: number): void {
  ctx.stats?.count(qtype, rcode);
  ctx.domainCounts?.count(domainIndex, qtype, rcode);
}

/** Domain.index, or -1 for none. */
const indexOf = (d: Domain | undefined): number => (d ? d.index : -1);

/** RRL (src/server/rrl.ts): the response, null (dropped), or on a slip a truncated answer, or
 *  BADCOOKIE to a client that sent a cookie, which then has a server cookie to come back with
 *  (RFC 7873 5.4, as BIND does). */
function rateLimit(msg: Uint8Array, out: Buffer, questionEnd: number, domain: Domain | undefined, cookie: CookieState | undefined,
  peer: string, ctx: QueryContext): Buffer | null {
  const action = ctx.rrl!.decide(out, questionEnd, domain?.name, peer, cookie?.valid ?? false, ctx.now());
  if (action === PASS) return out;
  if (action !== SLIP) return null;
  const d = decodeQuery(msg);
  const q = d.kind === 'query' ? d.query : d.kind === 'error' ? d.query : undefined;
  if (cookie && q) return badCookie(msg, q, cookie, ctx);
  const tc = d.kind === 'drop' ? out.subarray(0, 12) : encodeError(msg, out.readUInt16BE(0), (out[2] >> 3) & 0x0f, (out[2] & 1) === 1, out[3] & 0x0f, q, q?.edns, ctx.maxUdp);
  tc[2] |= 0x02; // TC (RFC 1035 4.1.1): the client asks again over TCP
  return tc;
}

/** BADCOOKIE with a fresh server cookie (RFC 7873 5.2.3). */
function badCookie(msg: Uint8Array, q: Query, cookie: CookieState, ctx: QueryContext): Buffer {
  ctx.stats?.count(q.qtype, RCODE.BADCOOKIE);
  return ctx.cookies!.attach(encodeError(msg, q.id, q.opcode, q.rd, RCODE.BADCOOKIE, q, q.edns, ctx.maxUdp), cookie, ctx.now());
}
