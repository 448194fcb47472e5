// PZC and secondaries. A secondary serves the TTLs it received, and keeps serving them: a record
// capped at 600 s left when transferred is still handed out with TTL 600 a minute later, when 540 s
// are left. So while a switch (or an RRset change) is pending, the primary re-announces the domain
// (a bare serial bump and NOTIFY) whenever what its secondaries hand out could outlive the switch
// by more than a tolerance: max(minGap, 10 % of the seconds left). The secondary's overshoot is
// then bounded by that tolerance plus its transfer delay (README: "PZC and secondaries").
import type { Logger } from 'pino';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Domain } from '../snapshot/domain.js';
import { secondsUntil, liveView } from '../pzc/policy.js';
import type { TransferSettings } from './access.js';

export interface ReannounceOptions {
  /** Smallest tolerance, seconds (default 10): the last announcements come this far apart. */
  minGapSeconds?: number;
  /** How often to look, ms (default 1000). */
  intervalMs?: number;
}

/** The earliest pending change of the domain (a switch, or an RRset change of its live zone), Unix
 *  seconds; undefined when none. */
export function nextChangeAt(d: Domain, nowMs: number): number | undefined {
  let at = d.pzc && d.pzc.at * 1000 > nowMs ? d.pzc.at : undefined;
  const zone = liveView(d, nowMs).zone;
  for (const m of zone.pending.values()) for (const t of m.values()) if (t * 1000 > nowMs && (at === undefined || t < at)) at = t;
  return at;
}

/** Whether a domain transferred at `lastMs` needs announcing again at `nowMs`: the TTL its
 *  secondaries hand out (capped at the seconds left then) outlives the switch by more than the
 *  tolerance. Pure. */
export function needsReannounce(at: number, maxTtl: number, lastMs: number, nowMs: number, minGap: number): boolean {
  const left = secondsUntil(at, nowMs);
  if (left === 0) return false; // the switch itself bumps the serial
  const served = Math.min(maxTtl, secondsUntil(at, lastMs));
  const overshoot = served - left;
  return overshoot > Math.max(minGap, left / 10);
}

export class Reannouncer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** domain id -> serial and when this server saw it appear. */
  private readonly seen = new Map<number, { serial: number; at: number }>();
  private readonly minGap: number;
  private readonly intervalMs: number;

  constructor(private readonly snapshot: () => Snapshot, private readonly settings: () => TransferSettings,
    private readonly bump: (domainId: number, serial: number) => Promise<number | undefined>,
    private readonly log: Logger, private readonly now: () => number = Date.now, o: ReannounceOptions = {}) {
    this.minGap = o.minGapSeconds ?? 10;
    this.intervalMs = o.intervalMs ?? 1000;
  }

  start(): void {
    this.timer = setInterval(() => { void this.tick(); }, this.intervalMs);
    this.timer.unref();
  }

  tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      const nowMs = this.now();
      const settings = this.settings();
      const snap = this.snapshot();
      // Only domains somebody transfers: a tick costs the configured domains, not all of them.
      for (const id of this.seen.keys()) if (!settings.domains.has(id)) this.seen.delete(id);
      for (const [id, t] of settings.domains) {
        const d = snap.domains.get(t.name);
        if (!d || d.id !== id) continue;
        const s = this.seen.get(d.id);
        if (!s || s.serial !== d.serial) { this.seen.set(d.id, { serial: d.serial, at: nowMs }); continue; }
        const at = nextChangeAt(d, nowMs);
        if (at === undefined) continue;
        if (!needsReannounce(at, liveView(d, nowMs).zone.maxTtl, s.at, nowMs, this.minGap)) continue;
        const serial = await this.bump(d.id, d.serial);
        this.log.info({ domain: d.name, serial, seconds_left: secondsUntil(at, nowMs) }, 'pending change re-announced to secondaries');
        this.seen.set(d.id, { serial: serial ?? d.serial, at: nowMs });
      }
    })().catch((err: Error) => {
      this.log.warn({ err: err.message }, 're-announcing pending changes failed; will retry');
    }).finally(() => { this.running = undefined; });
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
