// Decodes an incoming query by hand: header, the one question, and the OPT record (RFC 6891).
// Never throws: every outcome is a value (answer it, refuse it with an RCODE, or drop it).
import { RCODE, TYPE, OPCODE } from './constants.js';
import { labelToText, asciiLower } from './name.js';

const TYPE_TSIG = 250;

export interface Edns {
  /** Requestor's UDP payload size, raised to 512 when lower (RFC 6891 6.2.5). */
  readonly udpSize: number;
  readonly version: number;
  /** DNSSEC OK (RFC 3225). */
  readonly do: boolean;
  /** The query carried edns-tcp-keepalive (RFC 7828 3.2.1): on TCP the answer says the idle timeout. */
  readonly keepalive: boolean;
  /** The query asked for the server's identifier (NSID, RFC 5001 2.1): an empty option 3. */
  readonly nsid: boolean;
}

export interface Query {
  readonly id: number;
  readonly opcode: number;
  readonly rd: boolean;
  readonly cd: boolean;
  /** Lower-case key labels of the query name, leftmost first. */
  readonly keys: string[];
  /** Wire labels of the query name as sent (case kept). */
  readonly labels: string[];
  readonly qtype: number;
  readonly qclass: number;
  /** Offset just past the question: the question is echoed from [12, questionEnd). */
  readonly questionEnd: number;
  readonly edns: Edns | undefined;
  /** A TSIG record ends the message (RFC 8945): the transfer side checks and signs. */
  readonly signed: boolean;
}

export type Decoded =
  | { kind: 'query'; query: Query }
  /** Answer with this RCODE (FORMERR, NOTIMP, BADVERS); `query` is set when the question parsed. */
  | { kind: 'error'; rcode: number; id: number; opcode: number; rd: boolean; query: Query | undefined; edns: Edns | undefined }
  /** Not worth an answer: too short for a header, or a response (RFC 1035 7.3; avoids loops). */
  | { kind: 'drop' };

const DROP: Decoded = { kind: 'drop' };

export function decodeQuery(msg: Uint8Array): Decoded {
  if (msg.length < 12) return DROP;
  const id = (msg[0] << 8) | msg[1];
  const f1 = msg[2];
  if (f1 & 0x80) return DROP; // QR set: a response, never answered
  const opcode = (f1 >> 3) & 0x0f;
  const rd = (f1 & 0x01) !== 0;
  const cd = (msg[3] & 0x10) !== 0;
  const qd = (msg[4] << 8) | msg[5];
  const an = (msg[6] << 8) | msg[7];
  const ns = (msg[8] << 8) | msg[9];
  const ar = (msg[10] << 8) | msg[11];
  const fail = (rcode: number, query?: Query, edns?: Edns): Decoded => ({ kind: 'error', rcode, id, opcode, rd, query, edns });

  if (qd !== 1) return opcode === OPCODE.QUERY || qd > 1 ? fail(RCODE.FORMERR) : fail(RCODE.NOTIMP);
  // Question name: plain labels only; a pointer in the first name can only point at the header.
  const labels: string[] = [];
  const keys: string[] = [];
  let p = 12;
  let wire = 1;
  for (;;) {
    if (p >= msg.length) return fail(RCODE.FORMERR);
    const len = msg[p];
    if (len === 0) { p++; break; }
    if (len > 63) return fail(RCODE.FORMERR); // 0xC0 pointers and the reserved 0x40/0x80 label types
    if (p + 1 + len > msg.length) return fail(RCODE.FORMERR);
    wire += len + 1;
    if (wire > 255) return fail(RCODE.FORMERR); // RFC 1035 2.3.4
    const label = latin1(msg, p + 1, p + 1 + len);
    labels.push(label);
    keys.push(asciiLower(labelToText(label)));
    p += 1 + len;
  }
  if (p + 4 > msg.length) return fail(RCODE.FORMERR);
  const qtype = (msg[p] << 8) | msg[p + 1];
  const qclass = (msg[p + 2] << 8) | msg[p + 3];
  p += 4;
  const questionEnd = p;

  // Skip answer and authority records (a query has none, but tolerate them), then read OPT.
  let edns: Edns | undefined;
  let optCount = 0;
  let badVersion = false;
  let signed = false;
  const total = an + ns + ar;
  for (let i = 0; i < total; i++) {
    const nameStart = p;
    p = skipName(msg, p);
    if (p < 0 || p + 10 > msg.length) return fail(RCODE.FORMERR);
    const type = (msg[p] << 8) | msg[p + 1];
    const cls = (msg[p + 2] << 8) | msg[p + 3];
    const ttlHi = msg[p + 4];
    const version = msg[p + 5];
    const flags = (msg[p + 6] << 8) | msg[p + 7];
    const rdlen = (msg[p + 8] << 8) | msg[p + 9];
    p += 10 + rdlen;
    if (p > msg.length) return fail(RCODE.FORMERR);
    // RFC 8945 5.1: TSIG is the last record of the additional section (its checks: dns/tsig.ts).
    if (type === TYPE_TSIG) signed = true;
    if (type === TYPE.OPT && i >= an + ns) {
      optCount++;
      // RFC 6891 6.1.1: the OPT owner is the root, and one OPT at most.
      if (msg[nameStart] !== 0 || optCount > 1) return fail(RCODE.FORMERR);
      void ttlHi;
      edns = { udpSize: Math.max(512, cls), version, do: (flags & 0x8000) !== 0, keepalive: hasOption(msg, p - rdlen, p, OPTION_TCP_KEEPALIVE),
        nsid: hasOption(msg, p - rdlen, p, OPTION_NSID) };
      if (version > 0) badVersion = true;
    }
  }
  const query: Query = { id, opcode, rd, cd, keys, labels, qtype, qclass, questionEnd, edns, signed };
  if (optCount > 1) return fail(RCODE.FORMERR, query, edns);
  // RFC 6891 6.1.3: a version we do not implement gets BADVERS, with our OPT saying version 0.
  if (badVersion) return fail(RCODE.BADVERS, query, edns);
  // RFC 1996: we are the primary; a NOTIFY sent to us is refused, not misunderstood.
  if (opcode === OPCODE.NOTIFY) return fail(RCODE.REFUSED, query, edns);
  if (opcode !== OPCODE.QUERY) return fail(RCODE.NOTIMP, query, edns);
  return { kind: 'query', query };
}

/** Octets as a "binary string" (one char per octet): one string, not one per octet appended. */
function latin1(msg: Uint8Array, start: number, end: number): string {
  if (Buffer.isBuffer(msg)) return msg.toString('latin1', start, end);
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(msg[i]);
  return s;
}

/** Returns the offset after a (possibly compressed) name, or -1 when it is malformed. */
export function skipName(msg: Uint8Array, p: number): number {
  for (let guard = 0; guard < 128; guard++) {
    if (p >= msg.length) return -1;
    const len = msg[p];
    if (len === 0) return p + 1;
    if ((len & 0xc0) === 0xc0) return p + 2 <= msg.length ? p + 2 : -1;
    if (len > 63) return -1;
    p += 1 + len;
  }
  return -1;
}

/** EDNS option code of edns-tcp-keepalive (RFC 7828 3.1). */
export const OPTION_TCP_KEEPALIVE = 11;

/** EDNS option code of NSID, the name server identifier (RFC 5001 2.3). */
export const OPTION_NSID = 3;

/** Whether the OPT RDATA in msg[start, end) holds an option with this code (RFC 6891 6.1.2). */
function hasOption(msg: Uint8Array, start: number, end: number, code: number): boolean {
  for (let p = start; p + 4 <= end;) {
    if (((msg[p] << 8) | msg[p + 1]) === code) return true;
    p += 4 + ((msg[p + 2] << 8) | msg[p + 3]);
  }
  return false;
}
