// Bounded history (issue 16): the journal and the IXFR history (zone_history, ixfr_steps) are
// pruned by age and by depth, like Knot's journal limits, by whichever server gets the lock first
// each round (exactly once across servers sharing the database). Design in migrations/README.md.
import type { Logger } from 'pino';
import type { Client, Pool } from './db.js';
import { transaction } from './db.js';
import type { RetentionLimits } from '../config.js';

export interface Pruned { journal: number; zoneHistory: number; ixfrSteps: number; horizon: number }

/** Rows deleted per table and round: a large backlog is worked off over several rounds, each short. */
const BATCH = 10_000;
const LOCK = 7406395139; // beside the journal's 7406395138 and migrations' 7406395137

/** One round. Undefined when another server holds the lock (it is doing this round). */
export async function pruneHistory(pool: Pool, l: RetentionLimits): Promise<Pruned | undefined> {
  return transaction(pool, 'BEGIN', async (c) => {
    if (!(await c.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [LOCK])).rows[0].ok) return undefined;
    // The journal goes as a prefix in sequence order, so that "everything above the horizon is
    // there" holds for followers. The cut is the newer of the age cut and the depth cut.
    const cut = (await c.query<{ cut: number | null }>(
      `SELECT greatest(
         (SELECT seq FROM journal WHERE at < now() - make_interval(secs => $1) ORDER BY at DESC LIMIT 1),
         (SELECT max(seq) FROM journal) - $2) AS cut`, [l.journalMaxAgeS, l.journalMaxDepth])).rows[0].cut;
    let journal = 0;
    if (cut !== null && cut > 0) {
      const r = await c.query<{ seq: number }>(
        `DELETE FROM journal WHERE seq IN (SELECT seq FROM journal WHERE seq > 0 AND seq <= $1 ORDER BY seq LIMIT $2) RETURNING seq`,
        [cut, BATCH]);
      journal = r.rowCount ?? 0;
      if (journal) await c.query('UPDATE journal_horizon SET seq = greatest(seq, $1)', [Math.max(...r.rows.map((x) => x.seq))]);
    }
    const horizon = (await c.query<{ seq: number }>('SELECT seq FROM journal_horizon')).rows[0].seq;
    const zoneHistory = await pruneSteps(c, 'zone_history', 'zone_id', l);
    const ixfrSteps = await pruneSteps(c, 'ixfr_steps', 'domain_id', l);
    return { journal, zoneHistory, ixfrSteps, horizon };
  });
}

/** Steps older than the age limit, and beyond the newest `ixfrMaxDepth` of their zone or domain.
 *  The depth cut looks only at zones/domains with a step newer than the previous round's mark (a
 *  walk over every zone's history each round would cost what the history holds). */
async function pruneSteps(c: Client, table: 'zone_history' | 'ixfr_steps',
  key: 'zone_id' | 'domain_id', l: RetentionLimits): Promise<number> {
  const aged = await c.query(
    `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE at < now() - make_interval(secs => $1) LIMIT $2)`,
    [l.ixfrMaxAgeS, BATCH]);
  const mark = (await c.query<{ id: number }>(
    'SELECT coalesce((SELECT last_id FROM history_prune_mark WHERE name = $1), 0) AS id', [table])).rows[0].id;
  const newest = (await c.query<{ id: number | null }>(`SELECT max(id) AS id FROM ${table}`)).rows[0].id;
  if (newest === null || newest <= mark) return aged.rowCount ?? 0;
  const deep = await c.query(
    `WITH touched AS (SELECT DISTINCT ${key} AS k FROM ${table} WHERE id > $1),
          cut AS (SELECT t.k, (SELECT id FROM ${table} h WHERE h.${key} = t.k ORDER BY id DESC OFFSET $2 LIMIT 1) AS id FROM touched t)
     DELETE FROM ${table} h USING cut WHERE h.${key} = cut.k AND h.id <= cut.id`, [mark, l.ixfrMaxDepth]);
  await c.query(
    `INSERT INTO history_prune_mark (name, last_id) VALUES ($1, $2)
     ON CONFLICT (name) DO UPDATE SET last_id = EXCLUDED.last_id`, [table, newest]);
  return (aged.rowCount ?? 0) + (deep.rowCount ?? 0);
}

/** Runs pruneHistory every `intervalMs` (and once at start). */
export class HistoryPruner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly pool: Pool, private readonly log: Logger, private readonly limits: RetentionLimits,
    private readonly intervalMs = 60_000) {}

  start(): void {
    void this.tick();
    this.timer = setInterval(() => { void this.tick(); }, this.intervalMs);
    this.timer.unref();
  }

  tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = pruneHistory(this.pool, this.limits).then((p) => {
      if (p && p.journal + p.zoneHistory + p.ixfrSteps > 0) this.log.info(p, 'history pruned');
    }, (err: Error) => {
      this.log.warn({ err: err.message }, 'pruning history failed; will retry');
    }).finally(() => { this.running = undefined; });
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
