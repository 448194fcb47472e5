// Packs the records of a zone transfer into as many DNS messages as needed (RFC 5936 2.2: several
// records per message, each message complete, compressed per RFC 1035 4.1.4 within the message).
// Shared by AXFR and IXFR; pure.
import { MessageWriter, type WireApex } from '../dns/writer.js';
import { CLASS_IN } from '../dns/constants.js';
import type { CompiledName, WirePart } from '../snapshot/zone.js';
import type { Query } from '../dns/query.js';
import { question } from '../answer/encode.js';

/** One record of a transfer; the owner (and rdata names) relative to the domain apex when marked. */
export interface TransferRR {
  readonly owner: CompiledName;
  readonly type: number;
  readonly ttl: number;
  readonly parts: readonly WirePart[];
  /** RFC 3597 4: names in rdata compressed only for the RFC 1035 types. */
  readonly compress: boolean;
}

/** Soft size of one transfer message: room for many records, well under 65535, leaving space for a
 *  TSIG record. Knot and NSD use similar sizes (16 KiB to 64 KiB). */
export const MESSAGE_TARGET = 16 * 1024;

// Messages are written one at a time and copied out, so one writer serves every transfer.
const writer = new MessageWriter();

function header(w: MessageWriter, id: number, rd: boolean): void {
  w.u16(id);
  w.u8(0x80 | 0x04 | (rd ? 0x01 : 0)); // QR, opcode QUERY, AA (RFC 5936 2.2.1)
  w.u8(0); // RCODE NOERROR
  w.u16(0); w.u16(0); w.u16(0); w.u16(0);
}

/** RFC 5936 2.2.1: the first message echoes the question; later ones have none. Yields each
 *  message as it is filled, so a caller can write and sign one at a time. */
export function* packTransfer(msg: Uint8Array, q: Query, apex: WireApex, records: Iterable<TransferRR>, target = MESSAGE_TARGET): Generator<Buffer> {
  const w = writer;
  let count = 0;
  let first = true;
  const start = () => {
    w.reset();
    header(w, q.id, q.rd);
    if (first) {
      question(w, msg, q);
      w.setU16(4, 1);
    }
    first = false;
    count = 0;
  };
  const finish = (): Buffer => { w.setU16(6, count); return w.take(); };
  start();
  for (const rr of records) {
    for (let attempt = 0; attempt < 2; attempt++) {
      const mark = w.mark();
      w.name(rr.owner, apex, true);
      w.u16(rr.type);
      w.u16(CLASS_IN);
      w.u32(rr.ttl);
      w.rdata(rr.parts, apex, rr.compress);
      // Over the target with records already in the message: close it and write this one again in
      // a fresh message (a record alone always fits: it is under 65535 octets).
      if (w.pos > target && count > 0 && attempt === 0) {
        w.rollback(mark);
        yield finish();
        start();
        continue;
      }
      count++;
      break;
    }
  }
  yield finish();
}
