// Rollup and retention of the per-domain query statistics (migrations/014_query_stats.sql): per-minute
// rows older than the minute retention move, summed per hour, into the hourly table (in whole
// hours, in the same transaction, so a count is always in exactly one of the two), and hourly rows
// older than the hour retention go. By whichever server gets the lock first each round, as the
// history pruner does (retention.ts): exactly once across servers sharing the database.
import type { Logger } from 'pino';
import type { Pool } from './db.js';
import { transaction } from './db.js';
import { PeriodicRound } from './periodic-round.js';

export interface StatsRetention {
  /** Per-minute rows are kept this long (seconds), then rolled up per hour. */
  minuteKeepS: number;
  /** Hourly rows are kept this long (seconds). */
  hourKeepS: number;
}

export interface RolledUp { minutes: number; hoursDeleted: number }

/** Rows moved or deleted per round: a backlog is worked off over several rounds, each short. */
const BATCH = 100_000;
const LOCK = 7406395140; // beside retention.ts's 7406395139

/** One round; undefined when another server holds the lock. `now`: tests pass a clock. */
export async function rollupQueryStats(pool: Pool, r: StatsRetention, now = new Date()): Promise<RolledUp | undefined> {
  return transaction(pool, 'BEGIN', async (c) => {
    if (!(await c.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [LOCK])).rows[0].ok) return undefined;
    // Whole hours only: the cut is the start of the hour the minute retention ends in (UTC: epoch
    // arithmetic, not date_trunc, which follows the session's time zone).
    const cutS = Math.floor((now.getTime() / 1000 - r.minuteKeepS) / 3600) * 3600;
    const moved = await c.query<{ n: number }>(
      `WITH moved AS (
         DELETE FROM domain_query_minutes WHERE ctid IN (SELECT ctid FROM domain_query_minutes WHERE minute < to_timestamp($1) LIMIT $2)
         RETURNING domain_id, minute, qtype, rcode, count)
       , ins AS (INSERT INTO domain_query_hours AS h (domain_id, hour, qtype, rcode, count)
       SELECT domain_id, to_timestamp(floor(extract(epoch FROM minute) / 3600) * 3600), qtype, rcode, sum(count)
         FROM moved GROUP BY 1, 2, 3, 4
       ON CONFLICT (domain_id, hour, qtype, rcode) DO UPDATE SET count = h.count + EXCLUDED.count)
       SELECT count(*)::int AS n FROM moved`, [cutS, BATCH]);
    const old = await c.query(
      `DELETE FROM domain_query_hours WHERE ctid IN (SELECT ctid FROM domain_query_hours WHERE hour < $1 LIMIT $2)`,
      [new Date(now.getTime() - r.hourKeepS * 1000), BATCH]);
    return { minutes: moved.rows[0].n, hoursDeleted: old.rowCount ?? 0 };
  });
}

/** Runs rollupQueryStats every `intervalMs` (and once at start). */
export function statsRollup(pool: Pool, log: Logger, retention: StatsRetention, intervalMs = 60_000): PeriodicRound {
  return new PeriodicRound(async () => {
    const r = await rollupQueryStats(pool, retention);
    if (r && r.minutes + r.hoursDeleted > 0) log.info(r, 'query statistics rolled up');
  }, log, 'rolling up query statistics', intervalMs);
}
