// Whether the database is up, as the API sees it: a probe (`SELECT 1`, short timeout) every second,
// and one more at once when a request failed because the database could not be used. A refused
// connection is an outage at once; timeouts only after two probes in a row. An outage is logged once
// as it starts and once as it ends (not a stack trace per request); while it lasts the API answers
// 503 at once instead of waiting for a connect or statement timeout on every request.
import type { Logger } from 'pino';
import type { Pool } from './db.js';
import { isDatabaseUnavailable } from './db.js';

export interface DatabaseState {
  /** False from a failed probe (a refusal, or two timeouts in a row) until one succeeds again. */
  readonly up: boolean;
  /** Wall-clock ms of the last change of `up`. */
  readonly since: number;
  /** Why it is down (the first error seen). */
  readonly problem: string | undefined;
}

export class DatabaseMonitor implements DatabaseState {
  up = true;
  since = Date.now();
  problem: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private failures = 0;
  /** Called on every change of `up` (the primary of `serve --workers` acts on an outage). */
  onChange: (up: boolean) => void = () => undefined;

  constructor(private readonly pool: Pool, private readonly log: Logger, private readonly intervalMs = 1000, private readonly timeoutMs = 5000) {}

  start(): void {
    this.timer = setInterval(() => { void this.probe(); }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void { clearInterval(this.timer); }

  /** Tells the monitor of an error a request met; true when it means the database is unavailable
   *  (that request is answered 503). The state itself is left to a probe run at once: one request
   *  that timed out on a busy machine must not turn the whole API away, while a database that is
   *  really gone fails the probe as fast as it failed the request (a refused connection). */
  failed(err: unknown): boolean {
    if (!isDatabaseUnavailable(err)) return false;
    void this.probe();
    return true;
  }

  async probe(): Promise<boolean> {
    if (this.probing) return this.up;
    this.probing = true;
    try {
      // pg reads query_timeout from the query config (its typings leave it out of QueryConfig).
      const q = { text: 'SELECT 1', query_timeout: this.timeoutMs };
      await this.pool.query(q);
      this.failures = 0;
      this.set(true);
    } catch (err) {
      // A refused or dropped connection is an outage now; a probe that only timed out may be a
      // busy machine, so that takes a second one in a row (two seconds) to turn the API away.
      this.failures++;
      if (this.failures >= 2 || !isTimeout(err)) this.set(false, (err as Error).message);
    } finally {
      this.probing = false;
    }
    return this.up;
  }

  private set(up: boolean, problem?: string): void {
    if (up === this.up) return;
    const was = this.since;
    this.up = up;
    this.since = Date.now();
    this.problem = up ? undefined : problem;
    if (up) this.log.info({ downSeconds: Math.round((this.since - was) / 100) / 10 }, 'database available again');
    else this.log.warn({ err: problem }, 'database unavailable: the API answers 503 database_unavailable until it is back; DNS answers from the snapshot');
    this.onChange(up);
  }
}

/** A connect or query timeout (the database may only be slow), not a refusal. */
function isTimeout(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'ETIMEDOUT' || code === '57014' || /timeout/i.test((err as Error).message ?? '');
}
