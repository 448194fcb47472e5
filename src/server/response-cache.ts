// A cache of encoded responses, keyed by what decides the answer: query name (lower-case wire
// form), type, and the size limit (EDNS and transport). A hit copies the bytes and patches the ID,
// the RD/CD bits and the question (the client's case), skipping decode, lookup and encode.
//
// Correctness: an entry remembers the Domain object it was answered from; a change to the domain
// or its zone builds a new Domain, so the entry no longer matches and is answered afresh (per-domain
// invalidation without bookkeeping). A domain added below it (sub.example. under example.) leaves
// that Domain as it was, so entries also remember the snapshot's namesEpoch, which changes when a
// domain name is added. Names no domain encloses remember the snapshot's generation instead.
// Domains with a pending PZC or RRset change are never cached, so no cached TTL can exceed a cap.
//
// Layout: typed arrays, not a Map of objects. With the bench's 60,000 distinct questions a hit in a
// Map<string, object> walked about eight cache lines (bucket, table entry, key string, entry object,
// typed array, array buffer, bytes), and those misses were the largest cost of a hit on a busy
// machine. Here a hit reads the slot (hash and id), the entry's row of numbers, and the key and
// response, which lie together in one slab: an open-addressed table (linear probing, backward-shift
// deletion) over a log-structured slab, evicted oldest first.
import { randomBytes } from 'node:crypto';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Domain } from '../snapshot/domain.js';

/** Scratch space for building a key: name (255) + 0 + type, limit (2 each) + OPT count + flags +
 *  cookie. */
const KEY = Buffer.alloc(512);

/** From this many octets a hit copies the body with one native call instead of a byte loop
 *  (measured on Node 20: equal near 100 octets, the loop 1.7 µs against 0.4 at 600). */
const LONG_COPY = 96;

/** A secret per process, so that nobody can pick names that share a probe run (hash flooding: every
 *  question is cached, REFUSED ones too, and the names are the client's choice). */
const SEED = randomBytes(4).readInt32LE(0);

// One row of numbers per entry.
const OFF = 0; // where the key starts in the slab; the response follows it
const KEY_LEN = 1;
const LEN = 2; // response length
const HASH = 3;
const VALID_IN = 4; // generation of the last snapshot the entry was found current in
const MADE_IN = 5; // generation it was answered in (names no domain encloses)
const RCODE = 6;
const NAMES_EPOCH = 7; // the snapshot's namesEpoch when answered: a new domain may enclose the name
const EXPIRES = 8; // Unix seconds from which the entry is stale (signed answers: signature renewal), 0: never
const DOMAIN_INDEX = 9; // the domain's dense index (per-domain statistics), -1: none; read here, a hit never touches the Domain object
const ROW = 10;

/** Largest response kept (TCP answers may be bigger; those are answered afresh each time). */
const MAX_CACHED = 4096;
/** Where get() writes a hit for a caller that copies it away at once (get's `scratch`). */
const SCRATCH = Buffer.allocUnsafe(MAX_CACHED);

/** What the cheap pre-parse of a query found: enough to key the cache. The key itself stays in the
 *  scratch buffer, so a probe is valid until the next probe() (queries are answered synchronously). */
export interface CacheProbe {
  readonly hash: number;
  readonly keyLen: number;
  readonly qtype: number;
  readonly questionEnd: number;
  /** Where the data of the query's COOKIE option starts (client cookie, then any server cookie),
   *  and its length; 0 and 0 without one. Keyed apart from queries without it (its answer leaves
   *  room for the option), and cached without it: the server cookie is made per client. */
  readonly cookieAt: number;
  readonly cookieLen: number;
}

export class ResponseCache {
  /** Per slot: [hash, id + 1]; id + 1 = 0 is an empty slot. */
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly rows: Int32Array;
  private readonly domains: Array<Domain | undefined>;
  private readonly slab: Buffer;
  /** Entry ids oldest first (a ring), and the free ids. */
  private readonly order: Int32Array;
  private first = 0;
  private count = 0;
  private readonly free: Int32Array;
  private freeCount: number;
  /** Next write offset in the slab; `wrapped` when it has come round behind the oldest entry. */
  private head = 0;
  private wrapped = false;
  hits = 0;
  misses = 0;
  /** The rcode of the response the last hit returned (for the query counters). */
  hitRcode = 0;
  /** The domain the last hit was answered from (response rate limiting counts per zone). */
  hitDomain: Domain | undefined;
  /** Its index (Domain.index), -1 when no domain encloses the name: what per-domain counts need. */
  hitDomainIndex = -1;

  constructor(private readonly maxEntries = 200_000, private readonly maxUdp = 1232, slabBytes = maxEntries * 160) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, not ${maxEntries}`);
    let slotCount = 1;
    while (slotCount < maxEntries * 2) slotCount <<= 1; // load factor at most 1/2
    this.slots = new Int32Array(slotCount * 2);
    this.mask = slotCount - 1;
    this.rows = new Int32Array(maxEntries * ROW);
    this.domains = new Array<Domain | undefined>(maxEntries).fill(undefined);
    this.slab = Buffer.alloc(Math.max(slabBytes, 2 * (MAX_CACHED + 512)));
    this.order = new Int32Array(maxEntries);
    this.free = new Int32Array(maxEntries);
    for (let i = 0; i < maxEntries; i++) this.free[i] = maxEntries - 1 - i;
    this.freeCount = maxEntries;
  }

  /** Keys only the plain case: QUERY, one IN question, nothing else but an EDNS(0) OPT without
   *  options or with one COOKIE option (RFC 7873 4) of a length that is not FORMERR. Anything else
   *  returns undefined and takes the full path. */
  probe(msg: Uint8Array, tcp: boolean): CacheProbe | undefined {
    const n = msg.length;
    if (n < 17 || (msg[2] & 0xf8) !== 0 || msg[4] !== 0 || msg[5] !== 1 || msg[6] | msg[7] | msg[8] | msg[9] || msg[10] !== 0) return undefined;
    const ar = msg[11];
    if (ar > 1) return undefined;
    // The key: the name in wire form lower-cased, then type, size limit and OPT count, written into
    // a scratch buffer and hashed (FNV-1a from a secret start, then mixed) as it is written.
    const k = KEY;
    let h = SEED ^ 0x811c9dc5;
    let p = 12;
    let kl = 0;
    for (;;) {
      const len = msg[p];
      if (len === 0) break;
      if (len > 63 || p + len + 1 >= n) return undefined;
      k[kl++] = len;
      h = Math.imul(h ^ len, 0x01000193);
      for (let i = p + 1; i <= p + len; i++) {
        let c = msg[i];
        if (c >= 65 && c <= 90) c += 32;
        k[kl++] = c;
        h = Math.imul(h ^ c, 0x01000193);
      }
      p += len + 1;
      if (p - 12 + 1 > 255) return undefined; // a name is at most 255 octets with its root label
    }
    p++;
    if (p + 4 > n) return undefined;
    const qtype = (msg[p] << 8) | msg[p + 1];
    if (msg[p + 2] !== 0 || msg[p + 3] !== 1) return undefined; // class IN only
    const questionEnd = p + 4;
    let limit = 512;
    let flags = 0;
    let cookieAt = 0;
    let cookieLen = 0;
    if (ar === 1) {
      // OPT: root owner, type 41, version 0, no options or one COOKIE, and nothing after it.
      const o = questionEnd;
      if (o + 11 > n || msg[o] !== 0 || msg[o + 1] !== 0 || msg[o + 2] !== 41 || msg[o + 6] !== 0) return undefined;
      const rdlen = (msg[o + 9] << 8) | msg[o + 10];
      if (o + 11 + rdlen !== n) return undefined;
      if (rdlen > 0) {
        // RFC 7873 4: a client cookie of 8 octets, and a server cookie of 8 to 32 when learned.
        const len = (msg[o + 13] << 8) | msg[o + 14];
        if (msg[o + 11] !== 0 || msg[o + 12] !== 10 || rdlen !== 4 + len || (len !== 8 && (len < 16 || len > 40))) return undefined;
        cookieAt = o + 15;
        cookieLen = len;
      }
      const size = Math.max(512, (msg[o + 3] << 8) | msg[o + 4]);
      limit = size < this.maxUdp ? size : this.maxUdp;
      // DO (RFC 3225) and CO (RFC 9824) change the answer: signed or not, NXDOMAIN or compact.
      flags = msg[o + 7];
    } else if (questionEnd !== n) {
      return undefined;
    }
    if (tcp) limit = 65535;
    // A zero octet ends the name (no label is empty), so what follows cannot be read as name.
    const tail = kl;
    k[kl++] = 0;
    k[kl++] = qtype >> 8; k[kl++] = qtype & 0xff;
    k[kl++] = limit >> 8; k[kl++] = limit & 0xff;
    k[kl++] = ar;
    k[kl++] = flags;
    k[kl++] = cookieLen > 0 ? 1 : 0;
    for (let i = tail; i < kl; i++) h = Math.imul(h ^ k[i], 0x01000193);
    // MurmurHash3's finalizer: every input bit reaches the low bits that pick the slot.
    h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return { hash: h, keyLen: kl, qtype, questionEnd, cookieAt, cookieLen };
  }

  /** The cached response for this query, patched for it (its rcode in hitRcode); undefined on a
   *  miss. */
  get(probe: CacheProbe, msg: Uint8Array, snap: Snapshot, scratch = false): Buffer | undefined {
    const id = this.find(probe);
    const r = id * ROW;
    if (id < 0 || (this.rows[r + VALID_IN] !== snap.generation && !this.current(id, snap))
      || (this.rows[r + EXPIRES] !== 0 && Date.now() / 1000 >= this.rows[r + EXPIRES])) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    const rows = this.rows;
    const start = rows[r + OFF] + rows[r + KEY_LEN];
    const len = rows[r + LEN];
    const out = scratch ? SCRATCH.subarray(0, len) : Buffer.allocUnsafe(len);
    const slab = this.slab;
    // Byte loops, not Buffer#copy: a ranged copy allocates a view per call, and these are short.
    // The question has the same length in both (same name, one question, never compressed).
    const q = probe.questionEnd;
    out[0] = msg[0];
    out[1] = msg[1];
    out[2] = (slab[start + 2] & 0xfe) | (msg[2] & 0x01); // RD copied
    out[3] = (slab[start + 3] & 0xef) | (msg[3] & 0x10); // CD copied
    for (let i = 4; i < 12; i++) out[i] = slab[start + i];
    for (let i = 12; i < q; i++) out[i] = msg[i]; // the question as sent
    // The rest in one native copy once it is long (signed answers run to hundreds of octets, where
    // the byte loop cost about three times the copy); short ones stay in the loop (see above).
    if (len - q > LONG_COPY) out.set(slab.subarray(start + q, start + len), q);
    else for (let i = q; i < len; i++) out[i] = slab[start + i];
    this.hitRcode = rows[r + RCODE];
    this.hitDomain = this.domains[id];
    this.hitDomainIndex = rows[r + DOMAIN_INDEX];
    return out;
  }

  private current(id: number, snap: Snapshot): boolean {
    const r = id * ROW;
    const d = this.domains[id];
    if (this.rows[r + NAMES_EPOCH] !== snap.namesEpoch) return false;
    if (d ? snap.domains.get(d.name) !== d : this.rows[r + MADE_IN] !== snap.generation) return false;
    this.rows[r + VALID_IN] = snap.generation;
    return true;
  }

  /** `expires`: Unix seconds from which the response must be made afresh (a signed response, when
   *  its signatures are due for renewal); 0 for never. */
  set(probe: CacheProbe, bytes: Buffer, domain: Domain | undefined, snap: Snapshot, rcode: number, expires = 0): void {
    if (domain && (domain.pzc || domain.zone.pending.size > 0)) return; // TTLs change every second
    if (bytes.length > MAX_CACHED) return;
    const old = this.find(probe);
    if (old >= 0) this.forget(old); // an answer for the same key from an older snapshot
    const size = probe.keyLen + bytes.length;
    const off = this.allocate(size);
    const id = this.free[--this.freeCount];
    KEY.copy(this.slab, off, 0, probe.keyLen);
    bytes.copy(this.slab, off + probe.keyLen);
    const r = id * ROW;
    const rows = this.rows;
    rows[r + OFF] = off;
    rows[r + KEY_LEN] = probe.keyLen;
    rows[r + LEN] = bytes.length;
    rows[r + HASH] = probe.hash;
    rows[r + VALID_IN] = snap.generation;
    rows[r + MADE_IN] = snap.generation;
    rows[r + RCODE] = rcode;
    rows[r + NAMES_EPOCH] = snap.namesEpoch;
    rows[r + EXPIRES] = expires;
    rows[r + DOMAIN_INDEX] = domain ? domain.index : -1;
    this.domains[id] = domain;
    this.order[(this.first + this.count) % this.maxEntries] = id;
    this.count++;
    let s = probe.hash & this.mask;
    while (this.slots[2 * s + 1] !== 0) s = (s + 1) & this.mask;
    this.slots[2 * s] = probe.hash;
    this.slots[2 * s + 1] = id + 1;
  }

  get size(): number { return this.count; }

  /** The entry with the probe's key, or -1. */
  private find(probe: CacheProbe): number {
    const slots = this.slots;
    const h = probe.hash;
    const kl = probe.keyLen;
    for (let s = h & this.mask; ; s = (s + 1) & this.mask) {
      const id1 = slots[2 * s + 1];
      if (id1 === 0) return -1;
      if (slots[2 * s] !== h) continue;
      const r = (id1 - 1) * ROW;
      if (this.rows[r + KEY_LEN] !== kl) continue;
      const off = this.rows[r + OFF];
      const slab = this.slab;
      let i = 0;
      while (i < kl && slab[off + i] === KEY[i]) i++;
      if (i === kl) return id1 - 1;
    }
  }

  /** Room for `size` bytes in the slab, evicting the oldest entries as needed; its offset. */
  private allocate(size: number): number {
    for (;;) {
      if (this.count === 0) { this.head = 0; this.wrapped = false; }
      if (this.count < this.maxEntries) {
        const oldest = this.count > 0 ? this.rows[this.order[this.first] * ROW + OFF] : 0;
        if (!this.wrapped) {
          // Entries lie in [oldest, head): free are [head, end) and [0, oldest).
          if (this.slab.length - this.head >= size) return this.take(size);
          if (oldest >= size) { this.head = 0; this.wrapped = true; return this.take(size); }
        } else if (oldest - this.head >= size) {
          // Entries lie in [oldest, end) and [0, head): free is [head, oldest).
          return this.take(size);
        }
      }
      this.evictOldest();
    }
  }

  private take(size: number): number {
    const off = this.head;
    this.head += size;
    return off;
  }

  /** Forgets every entry answered from a Domain the snapshot no longer serves as it was (deleted,
   *  or moved to another zone): such entries would never be hit again, but would keep the old
   *  Domain, and its zone, alive until evicted. A walk over every entry: call it when domains or
   *  zones went away, not on every change. */
  forgetStale(snap: Snapshot): number {
    let n = 0;
    for (let id = 0; id < this.maxEntries; id++) {
      const d = this.domains[id];
      if (d !== undefined && snap.domains.get(d.name) !== d) { this.forget(id); n++; }
    }
    return n;
  }

  private evictOldest(): void {
    const id = this.order[this.first];
    this.first = (this.first + 1) % this.maxEntries;
    this.count--;
    this.release(id);
    // Once the oldest entry lies before the write head again, the slab has unwrapped.
    if (this.count > 0 && this.wrapped && this.rows[this.order[this.first] * ROW + OFF] < this.head) this.wrapped = false;
  }

  /** Drops an entry that is not the oldest (replaced by a fresh answer): it leaves the table now
   *  and its place in the order is marked dead, reclaimed when eviction reaches it. */
  private forget(id: number): void {
    this.unlink(id);
    this.rows[id * ROW + LEN] = -1; // dead: eviction reaches it in order and frees the id then
    this.domains[id] = undefined; // an old Domain (and its zone) need not live until then
  }

  private release(id: number): void {
    if (this.rows[id * ROW + LEN] !== -1) this.unlink(id);
    this.domains[id] = undefined;
    this.free[this.freeCount++] = id;
  }

  /** Removes an entry's slot, shifting later members of its probe run back (no tombstones). */
  private unlink(id: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = this.rows[id * ROW + HASH] & mask;
    while (slots[2 * i + 1] !== id + 1) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; slots[2 * j + 1] !== 0; j = (j + 1) & mask) {
      const home = slots[2 * j] & mask;
      // The entry at j may move to i unless its home lies cyclically in (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (stays) continue;
      slots[2 * i] = slots[2 * j];
      slots[2 * i + 1] = slots[2 * j + 1];
      i = j;
    }
    slots[2 * i] = 0;
    slots[2 * i + 1] = 0;
  }
}
