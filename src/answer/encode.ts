// Answer -> wire format: header, the question echoed exactly as sent, the sections with every TTL
// capped (PZC), EDNS OPT, and truncation that never splits an RRset (RFC 2181 9).
import { MessageWriter } from '../dns/writer.js';
import { RCODE, TYPE, CLASS_IN } from '../dns/constants.js';
import { OPTION_TCP_KEEPALIVE, OPTION_NSID, OPTION_PADDING, OPTION_EDE, type Query, type Edns } from '../dns/query.js';
import { QNAME, type Answer, type Entry, type Ede } from './resolve.js';
import type { Domain } from '../snapshot/domain.js';

const writer = new MessageWriter();
const OPT_SIZE = 11;
const QNAME_POINTER = 0xc000 | 12;

export interface Limits {
  /** Size limit of this response: 512 without EDNS, the client's size capped by ours with it,
   *  65535 on TCP. */
  readonly size: number;
  /** Our UDP payload size, advertised in OPT (RFC 6891 6.2.5). */
  readonly advertise: number;
  /** On TCP/TLS, to a query that carried edns-tcp-keepalive: the idle timeout to announce, in
   *  units of 100 ms (RFC 7828 3.3.2); 0 asks the client to close the connection. */
  readonly keepalive?: number;
  /** This server's identifier (GLIDEPATH_NODE_ID), sent as NSID to queries that ask (RFC 5001). */
  readonly nsid?: Uint8Array;
  /** Over TLS: pad the response when the query was padded (RFC 7830 4, RFC 8467 4.1). */
  readonly pad?: boolean;
  /** Return the answer in the encoder's own memory, valid until the next answer is encoded (for a
   *  caller that copies it away at once: server/handle-query.ts `scratch`). */
  readonly scratch?: boolean;
}

/** RFC 8467 4.1 Block-Length Padding: responses are padded to a multiple of 468 octets. */
export const PADDING_BLOCK = 468;

/** What else an OPT record says: DO echoed, an Extended DNS Error, padding. */
export interface OptExtra {
  /** Echo of the query's DO bit (RFC 3225 3). */
  readonly do?: boolean;
  readonly ede?: Ede;
  readonly pad?: boolean;
}

/** RFC 1035 4.2.1 and RFC 6891 6.2.3-6.2.5: the size a response may take. */
export function responseLimit(edns: Edns | undefined, tcp: boolean, maxUdp: number): number {
  if (tcp) return 65535;
  if (!edns) return 512;
  return Math.min(edns.udpSize, maxUdp);
}

export function header(w: MessageWriter, id: number, opcode: number, aa: boolean, rd: boolean, cd: boolean, rcode: number): void {
  w.u16(id);
  // QR=1; RA is never set: we are authoritative only (RFC 1035 4.1.1).
  w.u8(0x80 | (opcode << 3) | (aa ? 0x04 : 0) | (rd ? 0x01 : 0));
  w.u8((cd ? 0x10 : 0) | (rcode & 0x0f));
  w.u16(0); w.u16(0); w.u16(0); w.u16(0);
}

const KEEPALIVE_SIZE = 6;

/** Octets the OPT options take: edns-tcp-keepalive and NSID, each when present. */
function optionsSize(keepalive: number | undefined, nsid: Uint8Array | undefined): number {
  return (keepalive === undefined ? 0 : KEEPALIVE_SIZE) + (nsid === undefined ? 0 : 4 + nsid.length);
}

export function opt(w: MessageWriter, rcode: number, advertise: number, keepalive?: number, nsid?: Uint8Array, x: OptExtra = {}): void {
  w.u8(0); // root owner
  w.u16(TYPE.OPT);
  w.u16(advertise);
  w.u8(rcode >> 4); // extended RCODE, upper 8 bits (RFC 6891 6.1.3)
  w.u8(0); // version 0
  w.u16(x.do ? 0x8000 : 0); // RFC 3225 3: the DO bit is copied into the response
  const lenAt = w.pos;
  w.u16(0);
  if (keepalive !== undefined) {
    w.u16(OPTION_TCP_KEEPALIVE); // RFC 7828 3.1: code, length 2, TIMEOUT in 100 ms units
    w.u16(2);
    w.u16(Math.min(0xffff, keepalive));
  }
  if (nsid !== undefined) {
    w.u16(OPTION_NSID); // RFC 5001 2.3: the server's identifier, opaque octets
    w.u16(nsid.length);
    w.bytes(nsid);
  }
  if (x.ede) {
    const text = x.ede.text ? Buffer.from(x.ede.text, 'utf8') : undefined;
    w.u16(OPTION_EDE); // RFC 8914 2: INFO-CODE, then EXTRA-TEXT
    w.u16(2 + (text?.length ?? 0));
    w.u16(x.ede.code);
    if (text) w.bytes(text);
  }
  if (x.pad) {
    // RFC 7830 3: the Padding option comes last; its zero octets bring the message to a block.
    const n = (PADDING_BLOCK - ((w.pos + 4) % PADDING_BLOCK)) % PADDING_BLOCK;
    w.u16(OPTION_PADDING);
    w.u16(n);
    w.buf.fill(0, w.pos, w.pos + n);
    w.pos += n;
  }
  w.setU16(lenAt, w.pos - lenAt - 2);
}

/** The NSID payload for this query: only when it asked (RFC 5001 2.1). */
export function nsidFor(edns: Edns | undefined, nsid: Uint8Array | undefined): Uint8Array | undefined {
  return edns?.nsid ? nsid : undefined;
}

/** Copies the question and makes its name a compression target. */
export function question(w: MessageWriter, msg: Uint8Array, q: Query): void {
  const start = w.pos;
  w.bytes(msg, 12, q.questionEnd);
  const offsets: number[] = [];
  let p = start;
  for (const l of q.labels) { offsets.push(p); p += l.length + 1; }
  w.registerName(q.keys, offsets);
}

/** Writes one RRset; false (and nothing written) when it would pass `limit`. */
function rrset(w: MessageWriter, e: Entry, domain: Domain | undefined, cap: number, limit: number): boolean {
  const mark = w.mark();
  const set = e.set;
  if (e.cap !== undefined && e.cap < cap) cap = e.cap;
  for (const rr of set.rrs) {
    if (w.pos + rr.maxLength > w.buf.length) { w.rollback(mark); return false; }
    if (e.owner === QNAME) w.u16(QNAME_POINTER);
    else w.name(e.owner, domain, true);
    w.u16(set.type);
    w.u16(CLASS_IN);
    const ttl = e.ttl ?? rr.ttl;
    w.u32(ttl < cap ? ttl : cap);
    w.rdata(rr.parts, domain, set.compress);
  }
  if (w.pos > limit) { w.rollback(mark); return false; }
  return true;
}

export function encodeAnswer(msg: Uint8Array, q: Query, ans: Answer, limits: Limits): Buffer {
  const w = writer;
  w.reset();
  const edns = q.edns !== undefined;
  const keepalive = edns && q.edns.keepalive ? limits.keepalive : undefined;
  const nsid = nsidFor(q.edns, limits.nsid);
  const pad = edns && limits.pad === true && q.edns.padding;
  const limit = limits.size - (edns ? OPT_SIZE + optionsSize(keepalive, nsid) + (pad ? PADDING_BLOCK + 4 : 0) : 0);
  header(w, q.id, q.opcode, ans.aa, q.rd, q.cd, ans.rcode);
  w.setU16(4, 1);
  question(w, msg, q);
  const afterQuestion = w.mark();
  const counts = [0, 0, 0];
  let truncated = false;
  const sections: Entry[][] = [ans.answer, ans.authority, ans.additional];
  outer:
  for (let s = 0; s < 3; s++) {
    const list = sections[s];
    for (let i = 0; i < list.length; i++) {
      if (rrset(w, list[i], ans.domain, ans.cap, limit)) {
        counts[s] += list[i].set.rrs.length;
      } else if (s < 2 || i < ans.requiredAdditional) {
        truncated = true;
        break outer;
      }
      // Optional additional data that does not fit is left out without TC (RFC 2181 9).
    }
  }
  if (truncated) {
    // TC with no partial RRsets: the question alone, and the client retries over TCP.
    w.rollback(afterQuestion);
    counts[0] = counts[1] = counts[2] = 0;
    w.buf[2] |= 0x02;
  }
  w.setU16(6, counts[0]);
  w.setU16(8, counts[1]);
  let ar = counts[2];
  if (edns) { opt(w, ans.rcode, limits.advertise, keepalive, nsid, { do: q.edns.do, ede: ans.ede, pad }); ar++; }
  w.setU16(10, ar);
  return limits.scratch ? w.view() : w.take();
}

/** FORMERR, NOTIMP, BADVERS, REFUSED without an Answer: header, the question when it parsed, OPT
 *  when the query had one (RFC 6891 6.1.1: whatever the RCODE), with an Extended DNS Error when one
 *  says why (RFC 8914). */
export function encodeError(msg: Uint8Array, id: number, opcode: number, rd: boolean, rcode: number,
  q: Query | undefined, edns: Edns | undefined, advertise: number, nsid?: Uint8Array, ede?: Ede): Buffer {
  const w = writer;
  w.reset();
  header(w, id, opcode, false, rd, q?.cd ?? false, rcode);
  if (q) { w.setU16(4, 1); w.bytes(msg, 12, q.questionEnd); }
  if (edns || rcode === RCODE.BADVERS) { opt(w, rcode, advertise, undefined, nsidFor(edns, nsid), { do: edns?.do, ede: edns ? ede : undefined }); w.setU16(10, 1); }
  return w.take();
}
