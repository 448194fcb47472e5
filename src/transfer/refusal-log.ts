// Log lines for refused transfers and failed TSIG checks, aggregated: fuzzing or a misconfigured
// secondary polling every second must not write a line per query (8,919 lines were seen). The
// first refusal of a (peer, reason) in an interval is logged at once, so an operator sees it when
// it starts; after that it is counted, one line with the count per interval while it goes on.
// The table is bounded: past MAX_KEYS distinct pairs in one interval (spoofed UDP sources), the
// rest share one "other" count.
import type { Logger } from 'pino';

const MAX_KEYS = 1000;

export class RefusalLog {
  private counts = new Map<string, { peer: string; why: string; msg: string; repeated: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly log: Logger, private readonly intervalMs = 60_000) {}

  /** One refusal: `fields` go on the first line of its (peer, why) in the interval. */
  note(msg: string, peer: string, why: string, fields: Record<string, unknown>): void {
    const k = this.counts.size >= MAX_KEYS && !this.counts.has(`${peer}\u0000${why}`) ? 'other' : `${peer}\u0000${why}`;
    const seen = this.counts.get(k);
    if (seen) { seen.repeated++; return; }
    if (k === 'other') {
      this.counts.set(k, { peer: 'other', why: 'other', msg, repeated: 1 });
    } else {
      this.counts.set(k, { peer, why, msg, repeated: 0 });
      this.log.info({ peer, why, ...fields }, msg);
    }
    // The timer runs only while an interval is open, and never keeps the process alive.
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs).unref();
  }

  /** Closes the interval: one line per (peer, reason) refused again since its last line. A pair
   *  that goes on is only counted from then on (one line per interval); one that went quiet is
   *  forgotten, and logged at once when it comes back. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const seconds = this.intervalMs / 1000;
    for (const [k, c] of this.counts) {
      if (c.repeated === 0) { this.counts.delete(k); continue; }
      this.log.info({ peer: c.peer, why: c.why, repeated: c.repeated, seconds }, `${c.msg} (repeated)`);
      c.repeated = 0;
    }
    if (this.counts.size) this.timer = setTimeout(() => this.flush(), this.intervalMs).unref();
  }
}
