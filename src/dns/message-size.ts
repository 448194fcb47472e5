// Whether an RRset can be answered at all: RFC 1035 4.2.2 frames a message over TCP with a
// two-octet length, so no response is longer than 65,535 octets, and an answer is never split
// (RFC 2181 9: a truncated RRset is not sent). An RRset whose smallest possible response is longer
// cannot be served over any transport and is refused when written. Pure: used by the store's
// zone rules today, and by anything else that writes RRsets (RFC 2136 UPDATE).
import type { RdataPart } from './rdata.js';
import { isCompressibleType } from './rdata.js';

/** RFC 1035 4.2.2: the largest DNS message. */
export const MAX_MESSAGE = 65535;

const HEADER = 12; // RFC 1035 4.1.1
const QUESTION_TAIL = 4; // QTYPE and QCLASS (RFC 1035 4.1.2)
const RR_FIXED = 10; // TYPE, CLASS, TTL, RDLENGTH (RFC 1035 4.1.3)
const POINTER = 2; // a compressed owner: the question name (RFC 1035 4.1.4)
const OPT_RR = 11; // an empty OPT record, which an EDNS query gets back (RFC 6891 6.1.2)

/** Octets of one record's rdata in the smallest response, with relative names completed by an
 *  apex of `apexWire` octets: in an answer the apex is a suffix of the question name, so the
 *  compressible types (RFC 3597 4) point at it with two octets. */
export function rdataAnswerLength(type: number, parts: readonly RdataPart[], apexWire: number): number {
  const compress = isCompressibleType(type);
  let n = 0;
  for (const p of parts) {
    if (p instanceof Uint8Array) { n += p.length; continue; }
    let l = 0;
    for (const x of p.labels) l += x.length + 1;
    n += p.relative ? l + (compress ? POINTER : apexWire) : l + 1;
  }
  return n;
}

/** Octets of the smallest response that carries the whole RRset: header, question (the owner,
 *  `qnameWire` octets), every record with its owner compressed, and an OPT record. */
export function rrsetAnswerSize(qnameWire: number, rdataLengths: Iterable<number>): number {
  let n = HEADER + qnameWire + QUESTION_TAIL + OPT_RR;
  for (const l of rdataLengths) n += POINTER + RR_FIXED + l;
  return n;
}

/** True when the RRset's answer fits in one DNS message. */
export function rrsetFits(qnameWire: number, rdataLengths: Iterable<number>): boolean {
  return rrsetAnswerSize(qnameWire, rdataLengths) <= MAX_MESSAGE;
}
