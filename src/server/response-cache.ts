// A cache of encoded responses, keyed by what decides the answer: query name (lower-case wire
// form), type, and the size limit (EDNS and transport). A hit copies the bytes and patches the ID,
// the RD/CD bits and the question (the client's case), skipping decode, lookup and encode.
//
// Correctness: an entry remembers the Domain object it was answered from; a change to the domain
// or its zone builds a new Domain, so the entry no longer matches and is answered afresh (per-domain
// invalidation without bookkeeping). Names no domain encloses remember the snapshot's generation
// instead. Domains with a pending PZC or RRset change are never cached, so no cached TTL can exceed
// a cap.
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Domain } from '../snapshot/domain.js';

/** Scratch space for building a key: name (255) + 0 + type, limit (2 each) + OPT count. */
const KEY = Buffer.alloc(512);

interface Entry {
  readonly bytes: Buffer;
  readonly domain: Domain | undefined;
  /** For a name no domain encloses: the generation of the snapshot it was answered from. */
  readonly madeIn: number;
  readonly qtype: number;
  readonly rcode: number;
  /** The generation of the last snapshot this entry was found current in. Snapshots change only
   *  on edits, so most hits answer with one comparison instead of a lookup of the domain by name.
   *  Generations, not snapshots: an idle entry must not keep an old snapshot alive. */
  validIn: number;
}

/** What the cheap pre-parse of a query found: enough to key the cache. */
export interface CacheProbe {
  key: string;
  qtype: number;
  questionEnd: number;
}

export class ResponseCache {
  private readonly map = new Map<string, Entry>();
  private evictor: Iterator<string> | undefined;
  hits = 0;
  misses = 0;

  constructor(private readonly maxEntries = 200_000, private readonly maxUdp = 1232) {}

  /** Keys only the plain case: QUERY, one IN question, nothing else but an EDNS(0) OPT without
   *  options. Anything else returns undefined and takes the full path. */
  probe(msg: Uint8Array, tcp: boolean): CacheProbe | undefined {
    const n = msg.length;
    if (n < 17 || (msg[2] & 0xf8) !== 0 || msg[4] !== 0 || msg[5] !== 1 || msg[6] | msg[7] | msg[8] | msg[9] || msg[10] !== 0) return undefined;
    const ar = msg[11];
    if (ar > 1) return undefined;
    // The key is written as octets into a scratch buffer and read back as one latin1 string: the
    // name in wire form lower-cased, then type, size limit and OPT count. Appending a character at
    // a time made a string per octet, most of what a cache hit allocated.
    const k = KEY;
    let p = 12;
    let kl = 0;
    for (;;) {
      const len = msg[p];
      if (len === 0) break;
      if (len > 63 || p + len + 1 >= n) return undefined;
      k[kl++] = len;
      for (let i = p + 1; i <= p + len; i++) {
        const c = msg[i];
        k[kl++] = c >= 65 && c <= 90 ? c + 32 : c;
      }
      p += len + 1;
      if (p > 12 + 255) return undefined;
    }
    p++;
    if (p + 4 > n) return undefined;
    const qtype = (msg[p] << 8) | msg[p + 1];
    if (msg[p + 2] !== 0 || msg[p + 3] !== 1) return undefined; // class IN only
    const questionEnd = p + 4;
    let limit = 512;
    if (ar === 1) {
      // OPT: root owner, type 41, version 0, no options, and nothing after it.
      const o = questionEnd;
      if (o + 11 !== n || msg[o] !== 0 || msg[o + 1] !== 0 || msg[o + 2] !== 41 || msg[o + 6] !== 0 || msg[o + 9] !== 0 || msg[o + 10] !== 0) return undefined;
      const size = Math.max(512, (msg[o + 3] << 8) | msg[o + 4]);
      limit = size < this.maxUdp ? size : this.maxUdp;
    } else if (questionEnd !== n) {
      return undefined;
    }
    if (tcp) limit = 65535;
    // A zero octet ends the name (no label is empty), so what follows cannot be read as name.
    k[kl++] = 0;
    k[kl++] = qtype >> 8; k[kl++] = qtype & 0xff;
    k[kl++] = limit >> 8; k[kl++] = limit & 0xff;
    k[kl++] = ar;
    return { key: k.toString('latin1', 0, kl), qtype, questionEnd };
  }

  /** The cached response for this query, patched for it; undefined on a miss. */
  get(probe: CacheProbe, msg: Uint8Array, snap: Snapshot): { bytes: Buffer; rcode: number } | undefined {
    const e = this.map.get(probe.key);
    if (!e || (e.validIn !== snap.generation && !this.current(e, snap))) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    const out = Buffer.allocUnsafe(e.bytes.length);
    e.bytes.copy(out);
    out[0] = msg[0];
    out[1] = msg[1];
    out[2] = (out[2] & 0xfe) | (msg[2] & 0x01); // RD copied
    out[3] = (out[3] & 0xef) | (msg[3] & 0x10); // CD copied
    for (let i = 12; i < probe.questionEnd; i++) out[i] = msg[i]; // the question as sent
    return { bytes: out, rcode: e.rcode };
  }

  private current(e: Entry, snap: Snapshot): boolean {
    if (e.domain ? snap.domains.get(e.domain.name) !== e.domain : e.madeIn !== snap.generation) return false;
    e.validIn = snap.generation;
    return true;
  }

  set(probe: CacheProbe, bytes: Buffer, domain: Domain | undefined, snap: Snapshot, rcode: number): void {
    if (domain && (domain.pzc || domain.zone.pending.size > 0)) return; // TTLs change every second
    if (this.map.size >= this.maxEntries) {
      // Evict the oldest insertion (Map keeps insertion order): one per insertion once full, rather
      // than a tenth of the cache at once (20,000 deletions in one go stalled every query behind).
      // The iterator is kept: a fresh one would step over every entry deleted so far (they stay in
      // the table until it is rehashed), and a Map iterator follows insertions and rehashes.
      let next = this.evictor?.next();
      if (!next || next.done) next = (this.evictor = this.map.keys()).next();
      if (!next.done) this.map.delete(next.value);
    }
    this.map.set(probe.key, { bytes, domain, madeIn: snap.generation, qtype: probe.qtype, rcode, validIn: snap.generation });
  }

  get size(): number { return this.map.size; }
}
