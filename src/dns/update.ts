// Decodes an RFC 2136 UPDATE message: the zone section (ZOCOUNT must be 1, ZTYPE SOA: 3.1.1), then
// the prerequisite (PRCOUNT, the answer count) and update (UPCOUNT, the authority count) records,
// names possibly compressed. Never throws: a malformed message is a FORMERR value. Rdata is decoded
// per type when present (class NONE/ANY records may have none).
import { RCODE, TYPE } from './constants.js';
import { decodeRdata, readWireName, RdataError, type RdataPart } from './rdata.js';

export interface UpdateRR {
  /** Owner labels as sent (case kept). */
  readonly labels: string[];
  readonly type: number;
  readonly cls: number;
  readonly ttl: number;
  readonly rdlength: number;
  /** Decoded rdata; undefined when rdlength is 0. */
  readonly parts: RdataPart[] | undefined;
}

export interface UpdateMessage {
  readonly zone: string[];
  readonly zclass: number;
  readonly prerequisites: UpdateRR[];
  readonly updates: UpdateRR[];
}

export type DecodedUpdate = { ok: true; update: UpdateMessage } | { ok: false; rcode: number; why: string };

const fail = (why: string): DecodedUpdate => ({ ok: false, rcode: RCODE.FORMERR, why });

export function decodeUpdate(msg: Uint8Array): DecodedUpdate {
  if (msg.length < 12) return fail('shorter than a header');
  const zo = (msg[4] << 8) | msg[5];
  const pr = (msg[6] << 8) | msg[7];
  const up = (msg[8] << 8) | msg[9];
  // RFC 2136 3.1.1: exactly one zone.
  if (zo !== 1) return fail(`ZOCOUNT is ${zo}, not 1`);
  try {
    const z = readWireName(msg, 12, msg.length);
    let p = z.next;
    if (p + 4 > msg.length) return fail('zone section truncated');
    const ztype = (msg[p] << 8) | msg[p + 1];
    const zclass = (msg[p + 2] << 8) | msg[p + 3];
    p += 4;
    if (ztype !== TYPE.SOA) return fail('ZTYPE is not SOA');
    const read = (n: number, into: UpdateRR[]): string | undefined => {
      for (let i = 0; i < n; i++) {
        const name = readWireName(msg, p, msg.length);
        p = name.next;
        if (p + 10 > msg.length) return 'record truncated';
        const type = (msg[p] << 8) | msg[p + 1];
        const cls = (msg[p + 2] << 8) | msg[p + 3];
        const ttl = ((msg[p + 4] << 24) >>> 0) + ((msg[p + 5] << 16) | (msg[p + 6] << 8) | msg[p + 7]);
        const rdlength = (msg[p + 8] << 8) | msg[p + 9];
        p += 10;
        if (p + rdlength > msg.length) return 'rdata runs past the message';
        const parts = rdlength ? decodeRdata(type, msg, p, rdlength) : undefined;
        p += rdlength;
        into.push({ labels: name.name.labels, type, cls, ttl, rdlength, parts });
      }
      return undefined;
    };
    const prerequisites: UpdateRR[] = [];
    const updates: UpdateRR[] = [];
    const bad = read(pr, prerequisites) ?? read(up, updates);
    if (bad) return fail(bad);
    return { ok: true, update: { zone: z.name.labels, zclass, prerequisites, updates } };
  } catch (e) {
    if (e instanceof RdataError) return fail(e.message);
    throw e;
  }
}
