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

/** Most pointer targets a message can have: label starts within the first 16 KiB. */
const MAX_TARGETS = 8192;

export class MessageWriter {
  readonly buf: Buffer;
  pos = 0;
  /** Where names (and each of their suffixes) start in the message, in increasing order, and how
   *  many labels each has to the root: the places a pointer may go. A suffix is looked up by
   *  comparing labels with the message itself, like a C server does; the Map of suffix strings
   *  this replaces made strings and hashed them for every label written (a fifth of an uncached
   *  answer's time, and most of its garbage). */
  private readonly targets = new Int32Array(MAX_TARGETS);
  private readonly counts = new Uint8Array(MAX_TARGETS);
  private nTargets = 0;

  constructor(capacity = 65535 * 2 + 1024) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  reset(): void {
    this.pos = 0;
    this.nTargets = 0;
  }

  u8(v: number): void { this.buf[this.pos++] = v; }
  u16(v: number): void { this.buf[this.pos++] = v >>> 8; this.buf[this.pos++] = v & 0xff; }
  u32(v: number): void { this.buf.writeUInt32BE(v >>> 0, this.pos); this.pos += 4; }
  bytes(b: Uint8Array, start = 0, end = b.length): void {
    this.buf.set(b.subarray(start, end), this.pos);
    this.pos += end - start;
  }
  setU16(at: number, v: number): void { this.buf[at] = v >>> 8; this.buf[at + 1] = v & 0xff; }

  private target(offset: number, labels: number): void {
    if (offset > MAX_POINTER || this.nTargets >= MAX_TARGETS) return;
    this.targets[this.nTargets] = offset;
    this.counts[this.nTargets++] = labels;
  }

  /** Makes every suffix of a name already in the message (the question's) a compression target. */
  registerName(keys: readonly string[], offsets: readonly number[]): void {
    for (let i = 0; i < keys.length; i++) this.target(offsets[i], keys.length - i);
  }

  /** Writes `name` followed by `apex` when it is relative. With `compress`, reuses and records
   *  suffixes; without (rdata of types outside RFC 3597 4), writes every label in full. */
  /** RDLENGTH and RDATA of one record from its compiled parts: octets as they are, names
   *  compressed only where the type allows it (RFC 3597 4). Shared by answers and transfers. */
  rdata(parts: ReadonlyArray<Uint8Array | WireName>, apex: WireApex | undefined, compress: boolean): void {
    const lenAt = this.pos;
    this.u16(0);
    for (const p of parts) {
      if (p instanceof Uint8Array) this.bytes(p);
      else this.name(p, apex, compress);
    }
    this.setU16(lenAt, this.pos - lenAt - 2);
  }

  name(name: WireName, apex: WireApex | undefined, compress: boolean): void {
    const own = name.labels.length;
    const tail = name.relative && apex ? apex.labels.length : 0;
    const total = own + tail;
    if (!compress) {
      for (let i = 0; i < total; i++) this.label(i < own ? name.labels[i] : apex!.labels[i - own]);
      this.u8(0);
      return;
    }
    for (let i = 0; i < total; i++) {
      const want = total - i;
      for (let t = 0; t < this.nTargets; t++) {
        if (this.counts[t] === want && this.sameAt(this.targets[t], name, apex, own, total, i)) {
          this.u16(0xc000 | this.targets[t]);
          return;
        }
      }
      this.target(this.pos, want);
      this.label(i < own ? name.labels[i] : apex!.labels[i - own]);
    }
    this.u8(0);
  }

  /** Whether the name in the message at `off` (with as many labels as the suffix) spells labels
   *  from `from` on, ASCII case-insensitively (RFC 4343). */
  private sameAt(off: number, name: WireName, apex: WireApex | undefined, own: number, total: number, from: number): boolean {
    const b = this.buf;
    let p = off;
    for (let j = from; j < total; j++) {
      let len = b[p];
      while ((len & 0xc0) === 0xc0) { p = ((len & 0x3f) << 8) | b[p + 1]; len = b[p]; }
      const l = j < own ? name.labels[j] : apex!.labels[j - own];
      if (len !== l.length) return false;
      for (let k = 0; k < len; k++) {
        let x = b[p + 1 + k];
        let y = l.charCodeAt(k);
        if (x === y) continue;
        if (x >= 65 && x <= 90) x += 32;
        if (y >= 65 && y <= 90) y += 32;
        if (x !== y) return false;
      }
      p += 1 + len;
    }
    return true;
  }

  private label(l: string): void {
    this.buf[this.pos++] = l.length;
    for (let j = 0; j < l.length; j++) this.buf[this.pos++] = l.charCodeAt(j);
  }

  /** A point to return to when what follows does not fit. */
  mark(): number { return this.pos; }

  rollback(mark: number): void {
    this.pos = mark;
    while (this.nTargets > 0 && this.targets[this.nTargets - 1] >= mark) this.nTargets--;
  }

  /** A copy of the message written so far. */
  take(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  /** The message written so far, in this writer's own memory: valid until it writes again. */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
