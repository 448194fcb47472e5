// Retrying until the database answers, for an edge started while its database is unreachable: it
// must start answering as soon as the database is back, not exit and leave a supervisor to restart
// it in a loop. Backoff with jitter (250 ms doubling to 5 s), so that the wait after the database
// returns stays short and a fleet of edges does not knock in step.
import type { Logger } from 'pino';

export async function untilItWorks<T>(fn: () => Promise<T>, log: Logger, what: string, maxDelayMs = 5000): Promise<T> {
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      const out = await fn();
      if (attempt > 1) log.info({ attempts: attempt }, `${what}: works now`);
      return out;
    } catch (err) {
      log.warn({ err: (err as Error).message, attempt, retryInMs: delay }, `${what} failed; retrying`);
      await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
      delay = Math.min(delay * 2, maxDelayMs);
    }
  }
}
