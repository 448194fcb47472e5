// Counters for /metrics: queries by type and rcode, and a histogram of the time the handler took.
// Plain numbers, no I/O and no allocation on the query path; src/metrics/ exposes them (with
// bounded label values) at scrape time.

/** The counters as plain data: what a worker sends its primary, which sums them for /metrics. */
export interface QueryStatsState { byKey: Array<[number, number]>; buckets: number[]; sumSeconds: number; observations: number; total: number; rrl?: number[]; cacheHits?: number;
  /** Answers counted toward each tenant's domains (per-domain statistics), by tenant name. */
  tenants?: Array<[string, number]> }

/** Upper bounds of the latency buckets, in seconds (Prometheus convention). */
export const HANDLE_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025];

/** Counted in a flat array: qtypes below 256 and rcodes below 32 (every one we answer with but
 *  the TSIG ones); a Map, whose lookups cost more than the rest of a cache hit, takes the rest. */
const FLAT_TYPES = 256;
const FLAT_RCODES = 32;

export class QueryStats {
  /** Index: qtype * FLAT_RCODES + rcode. */
  private readonly flat = new Float64Array(FLAT_TYPES * FLAT_RCODES);
  /** Key: qtype * 4096 + rcode (rcodes are 12 bits with EDNS). */
  private readonly other = new Map<number, number>();
  private readonly buckets = new Float64Array(HANDLE_BUCKETS.length);
  private sumSeconds = 0;
  private observations = 0;
  total = 0;
  /** Queries answered from the response cache (server/response-cache.ts). */
  cacheHits = 0;
  /** Response rate limiting: counts by class and action (ResponseRateLimiter.counts), when on. */
  rrl: number[] | undefined;
  /** Per-domain statistics summed per tenant, as each batch is written (stats-flusher.ts). */
  private readonly tenants = new Map<string, number>();

  addTenants(totals: ReadonlyArray<readonly [string, number]>): void {
    for (const [t, n] of totals) this.tenants.set(t, (this.tenants.get(t) ?? 0) + n);
  }

  count(qtype: number, rcode: number): void {
    this.total++;
    if (qtype < FLAT_TYPES && rcode < FLAT_RCODES) {
      this.flat[qtype * FLAT_RCODES + rcode]++;
      return;
    }
    const key = qtype * 4096 + rcode;
    this.other.set(key, (this.other.get(key) ?? 0) + 1);
  }

  /** Counts by qtype * 4096 + rcode, the key the state and the exposition use. */
  private byKey(): Map<number, number> {
    const m = new Map(this.other);
    for (let i = 0; i < this.flat.length; i++) {
      if (this.flat[i] === 0) continue;
      const key = Math.floor(i / FLAT_RCODES) * 4096 + (i % FLAT_RCODES);
      m.set(key, (m.get(key) ?? 0) + this.flat[i]);
    }
    return m;
  }

  /** Time one query took in the handler, in milliseconds (performance.now() differences). */
  observe(ms: number): void {
    const s = ms / 1000;
    this.observations++;
    this.sumSeconds += s;
    for (let i = 0; i < HANDLE_BUCKETS.length; i++) {
      if (s <= HANDLE_BUCKETS[i]) { this.buckets[i]++; return; }
    }
  }

  state(): QueryStatsState {
    return { byKey: [...this.byKey()], buckets: [...this.buckets], sumSeconds: this.sumSeconds, observations: this.observations, total: this.total, rrl: this.rrl && [...this.rrl], cacheHits: this.cacheHits,
      tenants: this.tenants.size ? [...this.tenants] : undefined };
  }

  /** Adds another process's counters to these. */
  add(o: QueryStatsState): void {
    for (const [k, v] of o.byKey) {
      const t = Math.floor(k / 4096);
      const r = k % 4096;
      if (t < FLAT_TYPES && r < FLAT_RCODES) this.flat[t * FLAT_RCODES + r] += v;
      else this.other.set(k, (this.other.get(k) ?? 0) + v);
    }
    o.buckets.forEach((v, i) => { this.buckets[i] += v; });
    this.sumSeconds += o.sumSeconds;
    this.observations += o.observations;
    this.total += o.total;
    this.cacheHits += o.cacheHits ?? 0;
    if (o.tenants) this.addTenants(o.tenants);
    if (o.rrl) {
      this.rrl ??= new Array<number>(o.rrl.length).fill(0);
      o.rrl.forEach((v, i) => { this.rrl![i] += v; });
    }
  }
}
