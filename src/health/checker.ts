// Runs the health checks, on the primary side only (main.ts starts it where the PZC scheduler
// runs; never on an edge or a worker that only answers DNS). Every tick it expires passive checks
// whose last heartbeat is older than max_age, and runs the active checks that are due. Both are
// exactly once across servers sharing the database (store/health.ts: SKIP LOCKED claims); a state
// change is journaled there, so every server's snapshot follows it through the change feed.
import type { Logger } from 'pino';
import type { Pool } from '../store/db.js';
import { claimDueChecks, expireHeartbeats, recordResult, parseTcpTarget, type HealthCheck } from '../store/health.js';
import { httpProbe, tcpProbe, type ProbeResult } from './probe.js';
import { TargetPolicy } from './targets.js';

/** Runs by kind and outcome in this process, for /metrics (bounded: 3 kinds x 2 outcomes). */
export interface CheckRuns { [kindOutcome: string]: number }

export class HealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  readonly runs: CheckRuns = {};

  constructor(private readonly pool: Pool, private readonly log: Logger, private readonly policy = new TargetPolicy(), private readonly tickMs = 500) {}

  start(): void {
    void this.tick();
    this.timer = setInterval(() => { void this.tick(); }, this.tickMs);
    this.timer.unref();
  }

  tick(): Promise<void> {
    if (this.running || this.stopped) return this.running ?? Promise.resolve();
    this.running = (async () => {
      for (const c of await expireHeartbeats(this.pool)) this.log.info({ check: c.name, tenant: c.tenant_id, state: 'down' }, 'health check state changed: no heartbeat within max_age');
      // Probes run concurrently and outlive the tick: a slow target does not hold the others back.
      for (const c of await claimDueChecks(this.pool)) {
        const p = this.run(c).finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
      }
    })().catch((err: Error) => {
      this.log.warn({ err: err.message }, 'health check round failed; will retry');
    }).finally(() => { this.running = undefined; });
    return this.running;
  }

  private async run(c: HealthCheck): Promise<void> {
    const r = await probe(c, this.policy);
    const key = `${c.kind} ${r.ok ? 'success' : 'failure'}`;
    this.runs[key] = (this.runs[key] ?? 0) + 1;
    try {
      const changed = await recordResult(this.pool, c.id, r.ok, r.result);
      if (changed) this.log.info({ check: c.name, tenant: c.tenant_id, state: changed, result: r.result }, 'health check state changed');
    } catch (err) {
      this.log.warn({ check: c.name, err: (err as Error).message }, 'health check result not recorded');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    await Promise.all(this.inFlight);
  }
}

function probe(c: HealthCheck, policy: TargetPolicy): Promise<ProbeResult> {
  if (c.kind === 'tcp') {
    const t = parseTcpTarget(c.target ?? '');
    return t ? tcpProbe(t.host, t.port, c.timeout_ms, policy) : Promise.resolve({ ok: false, result: `bad target ${c.target}` });
  }
  return httpProbe(c.target ?? '', c.expected_status ?? 200, c.timeout_ms, policy);
}
