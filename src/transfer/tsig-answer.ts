// Answers to signed requests, shared by transfers, signed queries and UPDATE (RFC 8945 5.3): a
// response signed with the request's key over the request MAC, the key name echoed as the client
// wrote it; and the error answers of a failed check (5.3.2).
import { RCODE } from '../dns/constants.js';
import type { Query } from '../dns/query.js';
import { encodeError } from '../answer/encode.js';
import { sign, TSIG_ERROR, type TsigKey, type TsigRecord } from '../dns/tsig.js';

/** A request whose TSIG checked out. */
export interface Verified { key: TsigKey; mac: Buffer; asSent: string }

export function signAnswer(out: Buffer, v: Verified, nowSec: number): Buffer {
  return sign(out, v.key, { now: nowSec, prior: v.mac, ownerAsSent: v.asSent }).message;
}

/** RFC 8945 5.3.2: NOTAUTH with the TSIG error; BADKEY and BADSIG unsigned (an empty MAC), BADTIME
 *  signed, with our time in Other Data. A malformed MAC size is a FORMERR. */
export function tsigErrorAnswer(msg: Uint8Array, q: Query, t: TsigRecord, error: number | 'formerr', key: TsigKey | undefined,
  nowSec: number, maxUdp: number): Buffer {
  if (error === 'formerr') return encodeError(msg, q.id, q.opcode, q.rd, RCODE.FORMERR, q, q.edns, maxUdp);
  const out = encodeError(msg, q.id, q.opcode, q.rd, RCODE.NOTAUTH, q, q.edns, maxUdp);
  const now = Math.floor(nowSec);
  if (error === TSIG_ERROR.BADTIME && key) {
    const other = Buffer.alloc(6);
    other.writeUIntBE(now, 0, 6);
    return sign(out, key, { now: t.timeSigned, fudge: t.fudge, prior: t.mac, error, other, ownerAsSent: t.keyNameAsSent }).message;
  }
  const name = { name: t.keyName, algorithm: (key?.algorithm ?? t.algorithm) as TsigKey['algorithm'] };
  return sign(out, name, { now, error, unsigned: true, ownerAsSent: t.keyNameAsSent }).message;
}
