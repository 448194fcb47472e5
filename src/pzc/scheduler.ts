// Makes Progressive Zone Changes durable. The responder already serves the target zone from T by
// the clock; at T the scheduler writes the switch (domain -> target zone, switch cleared, serial
// bumped, journal written) exactly once across servers, and at start it applies every overdue one.
import type { Logger } from 'pino';
import type { Pool } from '../store/db.js';
import { applyDueSwitches, applyDueRRsets } from '../store/pzc.js';
import { applyDueRollovers, type RolloverSettings } from '../store/dnssec-rollover.js';

export class PzcScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  /** `rollover`: also take the due steps of DNSSEC key rollovers (store/dnssec-rollover.ts), by
   *  that clock: one scheduler, one timer, the same exactly-once rule. */
  constructor(private readonly pool: Pool, private readonly log: Logger, private readonly intervalMs = 500,
    private readonly rollover?: RolloverSettings) {}

  async start(): Promise<void> {
    await this.tick(); // a server that was down at T applies overdue switches as it starts
    this.timer = setInterval(() => { void this.tick(); }, this.intervalMs);
    this.timer.unref();
  }

  tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      for (const d of await applyDueSwitches(this.pool)) {
        this.log.info({ domain: d.name, zone: d.zone_id, serial: d.serial }, 'zone switch applied');
      }
      for (const r of await applyDueRRsets(this.pool)) {
        if (r.failed) this.log.error({ zone: r.zone_id, owner: r.owner, type: r.type, err: r.failed }, 'scheduled RRset change failed; left for an operator');
        else this.log.info({ zone: r.zone_id, owner: r.owner, type: r.type }, 'scheduled RRset change applied');
      }
    })().catch((err: Error) => {
      this.log.warn({ err: err.message }, 'applying due zone switches failed; will retry');
    }).then(async () => {
      if (!this.rollover) return;
      for (const r of await applyDueRollovers(this.pool, this.rollover)) {
        this.log.info({ domain: r.domain, phase: r.phase, next_at: r.next_at }, 'DNSSEC key rollover step');
      }
    }).catch((err: Error) => {
      this.log.warn({ err: err.message }, 'a DNSSEC key rollover step failed; will retry');
    }).finally(() => { this.running = undefined; });
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
