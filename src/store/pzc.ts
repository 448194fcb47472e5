// SQL of Progressive Zone Change: applying due switches exactly once across servers.
import type { Pool } from './db.js';
import { tx } from './db.js';

export const SCHEDULER_ACTOR = 'pzc-scheduler';

/** Points every domain whose switch time has come at its target zone and clears the switch, in one
 *  transaction. FOR UPDATE SKIP LOCKED makes each switch the work of exactly one server when several
 *  share the database; the journal and serial bump come from the domains triggers. */
export async function applyDueSwitches(pool: Pool): Promise<Array<{ name: string; zone_id: number; serial: number }>> {
  return tx(pool, SCHEDULER_ACTOR, async (c) => {
    const { rows } = await c.query<{ name: string; zone_id: number; serial: number }>(
      `WITH due AS (
         SELECT id FROM domains WHERE pzc_at <= now() ORDER BY pzc_at FOR UPDATE SKIP LOCKED)
       UPDATE domains d SET zone_id = d.pzc_zone_id, pzc_zone_id = NULL, pzc_at = NULL
         FROM due WHERE d.id = due.id
       RETURNING d.name, d.zone_id, d.serial`);
    return rows;
  });
}

export interface AppliedRRset { zone_id: number; owner: string; type: number; failed?: string }

/** Writes every RRset change whose time has come, each in its own transaction so that one that no
 *  longer fits the zone (say, a CNAME now beside other data) is marked failed without holding the
 *  others back. SKIP LOCKED: each is written by exactly one server. */
export async function applyDueRRsets(pool: Pool): Promise<AppliedRRset[]> {
  const done: AppliedRRset[] = [];
  for (;;) {
    const one = await tx(pool, SCHEDULER_ACTOR, async (c) => {
      const due = (await c.query<{ id: number; zone_id: number; owner: string; type: number; ttl: number; rdatas: string[] }>(
        `SELECT id, zone_id, owner, type, ttl, rdatas FROM scheduled_rrsets
          WHERE at <= now() AND failed IS NULL ORDER BY at, id LIMIT 1 FOR UPDATE SKIP LOCKED`)).rows[0];
      if (!due) return undefined;
      try {
        await c.query('SAVEPOINT apply');
        await c.query('DELETE FROM records WHERE zone_id = $1 AND owner = $2 AND type = $3', [due.zone_id, due.owner, due.type]);
        if (due.rdatas.length) {
          await c.query(
            `INSERT INTO records (zone_id, owner, type, ttl, rdata) SELECT $1, $2, $3, $4, unnest($5::text[])`,
            [due.zone_id, due.owner, due.type, due.ttl, due.rdatas]);
        }
        await c.query('SET CONSTRAINTS ALL IMMEDIATE'); // the CNAME rule is deferred: check it here
        await c.query('DELETE FROM scheduled_rrsets WHERE id = $1', [due.id]);
        return { zone_id: due.zone_id, owner: due.owner, type: due.type };
      } catch (err) {
        await c.query('ROLLBACK TO SAVEPOINT apply');
        const why = (err as Error).message;
        await c.query('UPDATE scheduled_rrsets SET failed = $2 WHERE id = $1', [due.id, why]);
        return { zone_id: due.zone_id, owner: due.owner, type: due.type, failed: why };
      }
    });
    if (!one) return done;
    done.push(one);
  }
}
