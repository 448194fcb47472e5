// Per-domain query counts (issue 20), kept on the query path in typed arrays: an answer adds one to
// the cell of its (domain, query type, response code), found by hashing the three into one number
// (the domain's dense index, snapshot/domain.ts domainIndex, and two small table look-ups). No
// string, no Map, no allocation per answer. Only the cells answered since the last drain hold a
// slot, so memory follows the traffic of a flush interval (12 octets a slot, a quarter to half of
// the slots used), not the number of domains served. drain() hands the cells out as plain data for
// the flusher (stats-flusher.ts) to write, and starts over.
import { TYPE, RCODE } from '../dns/constants.js';
import { domainIdOf } from '../snapshot/domain.js';

/** Query types counted on their own; every other type counts as OTHER (a bounded label set: the
 *  database and the API never see a type a client made up). */
export const STAT_TYPES = ['A', 'NS', 'CNAME', 'SOA', 'PTR', 'MX', 'TXT', 'AAAA', 'SRV', 'NAPTR', 'DS', 'DNSKEY', 'TLSA',
  'SVCB', 'HTTPS', 'CAA', 'ANY', 'AXFR', 'IXFR'] as const satisfies ReadonlyArray<keyof typeof TYPE>;
/** Response codes counted on their own (the header's four bits an answer to a query can carry). */
export const STAT_RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'] as const satisfies ReadonlyArray<keyof typeof RCODE>;
export const OTHER = 'other';

const TYPES = STAT_TYPES.length + 1; // + other
const RCODES = STAT_RCODES.length + 1;
const STRIDE = TYPES * RCODES;

/** qtype -> type bucket, one octet per possible type (64 KiB, shared): a look-up, not a switch. */
const TYPE_BUCKET = new Uint8Array(65536).fill(STAT_TYPES.length);
STAT_TYPES.forEach((t, i) => { TYPE_BUCKET[TYPE[t]] = i; });

/** Label of a bucket, for drain(). */
const TYPE_LABELS: readonly string[] = [...STAT_TYPES, OTHER];
const RCODE_LABELS: readonly string[] = [...STAT_RCODES, OTHER];

/** Counts drained from memory: parallel arrays, one entry per non-zero (domain, qtype, rcode). */
export interface DomainCountBatch {
  domainIds: number[];
  qtypes: string[];
  rcodes: string[];
  counts: number[];
}

/** Slots the table first has; it doubles whenever it is half full and keeps its size across drains
 *  (the next interval's traffic is like the last). A table with a row of every (type, rcode) per
 *  domain cost 560 octets per domain answered: 147 MiB per worker at a million domains, and each
 *  doubling of it a large ArrayBuffer that made V8 start a full mark of the heap ("external
 *  memory pressure") while answering. A cell here costs 48 octets at worst. */
const FIRST_SLOTS = 4096;

export class DomainCounts {
  /** Per slot: its cell's key plus one (0: empty). The key is index * STRIDE + (type * RCODES +
   *  rcode); a double, so that no domain index is too large for it. */
  private keys = new Float64Array(FIRST_SLOTS);
  private counts = new Uint32Array(FIRST_SLOTS);
  /** 32 - log2(slots): a key's home slot is the top bits of its Fibonacci hash. */
  private shift = 32 - Math.log2(FIRST_SLOTS);
  private used = 0;

  /** One answer from the domain of index `i` (Domain.index; -1: no domain encloses the name,
   *  nothing counted). An index, not the Domain: a cache hit has it in the entry's row of numbers,
   *  and reading it from the Domain object cost a cache miss per answer. */
  count(i: number, qtype: number, rcode: number): void {
    if (i < 0) return;
    const key = i * STRIDE + TYPE_BUCKET[qtype] * RCODES + (rcode < STAT_RCODES.length ? rcode : STAT_RCODES.length) + 1;
    const keys = this.keys;
    const mask = keys.length - 1;
    let s = slotOf(key, this.shift);
    for (;;) {
      const k = keys[s];
      if (k === key) { this.counts[s]++; return; }
      if (k === 0) break;
      s = (s + 1) & mask; // linear probing: the next slot is in the same cache line mostly
    }
    keys[s] = key;
    this.counts[s] = 1;
    if (++this.used * 2 > keys.length) this.rehash();
  }

  /** Twice the slots: every cell moves to its home in the larger table. */
  private rehash(): void {
    const oldKeys = this.keys, oldCounts = this.counts;
    this.keys = new Float64Array(oldKeys.length * 2);
    this.counts = new Uint32Array(oldKeys.length * 2);
    this.shift--;
    const mask = this.keys.length - 1;
    for (let j = 0; j < oldKeys.length; j++) {
      const key = oldKeys[j];
      if (key === 0) continue;
      let s = slotOf(key, this.shift);
      while (this.keys[s] !== 0) s = (s + 1) & mask;
      this.keys[s] = key;
      this.counts[s] = oldCounts[j];
    }
  }

  /** Cells (domain, type, rcode) counted since the last drain. */
  get cells(): number { return this.used; }

  /** Octets the table holds (it keeps its size across drains). */
  get bytes(): number { return this.keys.byteLength + this.counts.byteLength; }

  /** Everything counted since the last drain, and a fresh start. */
  drain(): DomainCountBatch {
    const out: DomainCountBatch = { domainIds: [], qtypes: [], rcodes: [], counts: [] };
    if (this.used === 0) return out;
    const keys = this.keys;
    for (let s = 0; s < keys.length; s++) {
      const key = keys[s];
      if (key === 0) continue;
      const cell = (key - 1) % STRIDE;
      out.domainIds.push(domainIdOf((key - 1 - cell) / STRIDE));
      out.qtypes.push(TYPE_LABELS[Math.floor(cell / RCODES)]);
      out.rcodes.push(RCODE_LABELS[cell % RCODES]);
      out.counts.push(this.counts[s]);
    }
    keys.fill(0);
    this.used = 0;
    return out;
  }
}

/** Home slot of a key: Fibonacci hashing (Knuth 6.4) of its two 32-bit halves, top bits. */
function slotOf(key: number, shift: number): number {
  return Math.imul((key | 0) ^ ((key / 0x100000000) | 0), 0x9e3779b1) >>> shift;
}
