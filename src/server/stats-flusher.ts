// Writes the per-domain counts (domain-counts.ts) in batches, off the query path: every
// GLIDEPATH_STATS_FLUSH_INTERVAL, and at each minute boundary, so that a batch never spans two
// minutes and lands in the minute it was counted in. The writer is handed in (main.ts: an upsert
// in store/query-stats.ts); a batch it could not write (database down) is kept and tried again with
// the next one, up to a bound, past which the oldest is dropped with a warning.
import type { Logger } from 'pino';
import type { DomainCounts, DomainCountBatch } from './domain-counts.js';

/** Writes one batch counted in `minute`; resolves to the batch's totals per tenant name. */
export type WriteCounts = (minute: Date, batch: DomainCountBatch) => Promise<Array<[string, number]>>;

/** Cells kept across failed writes at most (about 100 bytes each). */
const MAX_PENDING_CELLS = 200_000;
/** How long a stop waits for the last batch to be written. */
const STOP_WAIT_MS = 3000;

export class StatsFlusher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private pending: Array<{ minute: Date; batch: DomainCountBatch }> = [];
  private batchStart: number;
  private stopped = false;
  private failing = false;

  constructor(private readonly counts: DomainCounts, private readonly write: WriteCounts,
    /** Told the per-tenant totals of every batch written (the /metrics counters). */
    private readonly onWritten: (tenants: Array<[string, number]>) => void,
    private readonly log: Logger, private readonly intervalMs = 5000, private readonly now: () => number = Date.now) {
    this.batchStart = now();
  }

  start(): void { this.schedule(); }

  private schedule(): void {
    if (this.stopped) return;
    const t = this.now();
    const toMinute = 60_000 - (t % 60_000);
    this.timer = setTimeout(() => { void this.flush().finally(() => this.schedule()); }, Math.min(this.intervalMs, toMinute));
    this.timer.unref();
  }

  /** Drains the counts now and writes them with whatever is pending. */
  flush(): Promise<void> {
    const minute = new Date(this.batchStart - (this.batchStart % 60_000));
    this.batchStart = this.now();
    const batch = this.counts.drain();
    if (batch.counts.length) this.pending.push({ minute, batch });
    if (this.running) return this.running.then(() => this.flushPending());
    return this.flushPending();
  }

  private flushPending(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      while (this.pending.length) {
        const next = this.pending[0];
        try {
          this.onWritten(await this.write(next.minute, next.batch));
        } catch (err) {
          if (!this.failing) this.log.warn({ err: (err as Error).message }, 'writing query statistics failed; keeping them for the next try');
          this.failing = true;
          this.bound();
          return;
        }
        this.pending.shift();
        if (this.failing) this.log.info('query statistics written again');
        this.failing = false;
      }
    })().finally(() => { this.running = undefined; });
    return this.running;
  }

  /** Drops the oldest batches past MAX_PENDING_CELLS (an outage longer than memory should carry). */
  private bound(): void {
    let cells = this.pending.reduce((n, p) => n + p.batch.counts.length, 0);
    while (cells > MAX_PENDING_CELLS && this.pending.length > 1) {
      const old = this.pending.shift()!;
      cells -= old.batch.counts.length;
      this.log.warn({ minute: old.minute.toISOString(), cells: old.batch.counts.length }, 'query statistics dropped: too many kept while writes fail');
    }
  }

  /** The last flush (after the listeners have stopped, so nothing answered is left uncounted),
   *  waited for at most STOP_WAIT_MS: a frozen database must not hold up a stop or a restart. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), STOP_WAIT_MS); });
    const r = await Promise.race([this.flush().then(() => 'done' as const), late]);
    clearTimeout(timer);
    if (r === 'late' || this.pending.length) this.log.warn({ cells: this.pending.reduce((n, p) => n + p.batch.counts.length, 0) }, 'query statistics not written at stop: lost');
  }
}
