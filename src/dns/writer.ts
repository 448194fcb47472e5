// A DNS message writer with name compression (RFC 1035 4.1.4), owned by us because dns-packet
// never compresses. One writer is reused for every message (the event loop runs one encode at a
// time), so the hot path allocates only the final copy of the bytes.

/** A name to write: wire labels (any case), their lower-case key forms, and whether the apex
 *  passed to the call follows them. */
export interface WireName {
  readonly labels: readonly string[];
  readonly keys: readonly string[];
  readonly relative: boolean;
}

/** The apex that completes relative names. */
export interface WireApex {
  readonly labels: readonly string[];
  readonly keys: readonly string[];
}

/** Pointer offsets are 14 bits (RFC 1035 4.1.4). */
const MAX_POINTER = 0x3fff;

export class MessageWriter {
  readonly buf: Buffer;
  pos = 0;
  private readonly table = new Map<string, number>();
  /** Keys added to the table, in order, so that a rollback can forget those past its mark. */
  private readonly added: string[] = [];
  private readonly suffixes: string[] = [];

  constructor(capacity = 65535 * 2 + 1024) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  reset(): void {
    this.pos = 0;
    this.table.clear();
    this.added.length = 0;
  }

  u8(v: number): void { this.buf[this.pos++] = v; }
  u16(v: number): void { this.buf[this.pos++] = v >>> 8; this.buf[this.pos++] = v & 0xff; }
  u32(v: number): void { this.buf.writeUInt32BE(v >>> 0, this.pos); this.pos += 4; }
  bytes(b: Uint8Array, start = 0, end = b.length): void {
    this.buf.set(b.subarray(start, end), this.pos);
    this.pos += end - start;
  }
  setU16(at: number, v: number): void { this.buf[at] = v >>> 8; this.buf[at + 1] = v & 0xff; }

  /** Makes every suffix of a name already in the message (the question's) a compression target. */
  registerName(keys: readonly string[], offsets: readonly number[]): void {
    let suffix = '';
    for (let i = keys.length - 1; i >= 0; i--) {
      suffix = keys[i] + '.' + suffix;
      if (offsets[i] <= MAX_POINTER && !this.table.has(suffix)) {
        this.table.set(suffix, offsets[i]);
        this.added.push(suffix);
      }
    }
  }

  /** Writes `name` followed by `apex` when it is relative. With `compress`, reuses and records
   *  suffixes; without (rdata of types outside RFC 3597 4), writes every label in full. */
  name(name: WireName, apex: WireApex | undefined, compress: boolean): void {
    const own = name.labels.length;
    const tail = name.relative && apex ? apex.labels.length : 0;
    const total = own + tail;
    if (!compress) {
      for (let i = 0; i < total; i++) this.label(i < own ? name.labels[i] : apex!.labels[i - own]);
      this.u8(0);
      return;
    }
    // Suffix keys, right to left: "b.example.", "a.b.example.", ...
    const suf = this.suffixes;
    let s = '';
    for (let i = total - 1; i >= 0; i--) {
      s = (i < own ? name.keys[i] : apex!.keys[i - own]) + '.' + s;
      suf[i] = s;
    }
    for (let i = 0; i < total; i++) {
      const hit = this.table.get(suf[i]);
      if (hit !== undefined) {
        this.u16(0xc000 | hit);
        return;
      }
      if (this.pos <= MAX_POINTER) {
        this.table.set(suf[i], this.pos);
        this.added.push(suf[i]);
      }
      this.label(i < own ? name.labels[i] : apex!.labels[i - own]);
    }
    this.u8(0);
  }

  private label(l: string): void {
    this.buf[this.pos++] = l.length;
    for (let j = 0; j < l.length; j++) this.buf[this.pos++] = l.charCodeAt(j);
  }

  /** A point to return to when what follows does not fit. */
  mark(): number { return this.pos; }

  rollback(mark: number): void {
    this.pos = mark;
    while (this.added.length) {
      const k = this.added[this.added.length - 1];
      if (this.table.get(k)! < mark) break;
      this.table.delete(k);
      this.added.pop();
    }
  }

  /** A copy of the message written so far. */
  take(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}
