// A database round run every `intervalMs` and once at start, one at a time (a tick while one runs
// joins it); a failure is logged and the next round tries again. stop() waits for the round under way.
import type { Logger } from 'pino';

export class PeriodicRound {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly round: () => Promise<void>, private readonly log: Logger, private readonly what: string,
    private readonly intervalMs: number) {}

  start(): void {
    void this.tick();
    this.timer = setInterval(() => { void this.tick(); }, this.intervalMs);
    this.timer.unref();
  }

  tick(): Promise<void> {
    this.running ??= this.round().catch((err: Error) => {
      this.log.warn({ err: err.message }, `${this.what} failed; will retry`);
    }).finally(() => { this.running = undefined; });
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
