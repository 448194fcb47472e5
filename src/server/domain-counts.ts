// Per-domain query counts (issue 20), kept on the query path in typed arrays: an answer adds one to
// its domain's cell for (query type, response code), found by the domain's dense index
// (snapshot/domain.ts domainIndex) and two small table look-ups. No string, no Map, no allocation
// per answer. Only the domains answered since the last drain hold a row, so memory follows the
// traffic of a flush interval, not the number of domains served. drain() hands the rows out as
// plain data for the flusher (stats-flusher.ts) to write, and starts over.
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

/** Rows (domains answered between drains) the arrays first have room for; they double as needed. */
const FIRST_ROWS = 256;

export class DomainCounts {
  /** Per domain index: its row plus one (0: no row since the last drain). */
  private rowOf = new Int32Array(1024);
  /** Column-major: cell (type, rcode) of row r is at ((type * RCODES + rcode) * capacity + r). Traffic
   *  is mostly a few (type, rcode) pairs, so the counters it touches lie together in a few columns
   *  and stay in the CPU cache; row-major (a 560-octet row per domain) cost a cache miss per answer. */
  private cells = new Uint32Array(FIRST_ROWS * STRIDE);
  private capacity = FIRST_ROWS;
  /** Per row: the domain's index. */
  private rowIndexes = new Int32Array(FIRST_ROWS);
  private rows = 0;

  /** One answer from the domain of index `i` (Domain.index; -1: no domain encloses the name,
   *  nothing counted). An index, not the Domain: a cache hit has it in the entry's row of numbers,
   *  and reading it from the Domain object cost a cache miss per answer. */
  count(i: number, qtype: number, rcode: number): void {
    if (i < 0) return;
    let row = i < this.rowOf.length ? this.rowOf[i] - 1 : -1;
    if (row < 0) row = this.addRow(i);
    this.cells[(TYPE_BUCKET[qtype] * RCODES + (rcode < STAT_RCODES.length ? rcode : STAT_RCODES.length)) * this.capacity + row]++;
  }

  /** The first answer from a domain since the last drain: a row for it (arrays grow by doubling). */
  private addRow(i: number): number {
    if (i >= this.rowOf.length) this.rowOf = grow(this.rowOf, i + 1);
    const row = this.rows++;
    if (row >= this.capacity) this.widen();
    this.rowOf[i] = row + 1;
    this.rowIndexes[row] = i;
    return row;
  }

  /** Twice the rows: every column moves to its place in the wider array. */
  private widen(): void {
    const cap = this.capacity * 2;
    const cells = new Uint32Array(cap * STRIDE);
    for (let k = 0; k < STRIDE; k++) cells.set(this.cells.subarray(k * this.capacity, (k + 1) * this.capacity), k * cap);
    this.cells = cells;
    this.capacity = cap;
    this.rowIndexes = grow(this.rowIndexes, cap);
  }

  /** Domains answered since the last drain. */
  get domains(): number { return this.rows; }

  /** Everything counted since the last drain, and a fresh start. */
  drain(): DomainCountBatch {
    const out: DomainCountBatch = { domainIds: [], qtypes: [], rcodes: [], counts: [] };
    for (let k = 0; k < STRIDE; k++) {
      const base = k * this.capacity;
      for (let row = 0; row < this.rows; row++) {
        const n = this.cells[base + row];
        if (n === 0) continue;
        out.domainIds.push(domainIdOf(this.rowIndexes[row]));
        out.qtypes.push(TYPE_LABELS[Math.floor(k / RCODES)]);
        out.rcodes.push(RCODE_LABELS[k % RCODES]);
        out.counts.push(n);
        this.cells[base + row] = 0;
      }
    }
    for (let row = 0; row < this.rows; row++) this.rowOf[this.rowIndexes[row]] = 0;
    this.rows = 0;
    return out;
  }
}

function grow<T extends Int32Array | Uint32Array | Float64Array>(a: T, atLeast: number): T {
  let n = a.length;
  while (n < atLeast) n *= 2;
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}
