// SQL of Progressive Zone Change: scheduling switches and RRset changes, and applying due ones
// exactly once across servers.
import type { Client, Pool } from './db.js';
import type { Queryable } from './tenants.js';
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
        await c.query('SET CONSTRAINTS records_cname_alone IMMEDIATE'); // the CNAME rule is deferred: check it here (only it: the journal's numbering stays at COMMIT)
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

// ---- Scheduling, for the API. Every function runs in the caller's transaction. ----

/** A pending zone switch of a domain, with the names the API shows. */
export interface PendingZoneSwitch { domain: string; from_zone: string; zone: string; at: Date }

/** Sets (or replaces) the pending switch of a domain. */
export async function scheduleSwitch(c: Client, domainId: number, zoneId: number, at: Date): Promise<void> {
  await c.query('UPDATE domains SET pzc_zone_id = $2, pzc_at = $3 WHERE id = $1', [domainId, zoneId, at]);
}

/** Points the domain at the zone now and clears any pending switch (a switch whose time has passed). */
export async function switchNow(c: Client, domainId: number, zoneId: number): Promise<void> {
  await c.query('UPDATE domains SET zone_id = $2, pzc_zone_id = NULL, pzc_at = NULL WHERE id = $1', [domainId, zoneId]);
}

export async function cancelSwitch(c: Client, domainId: number): Promise<boolean> {
  return ((await c.query('UPDATE domains SET pzc_zone_id = NULL, pzc_at = NULL WHERE id = $1 AND pzc_at IS NOT NULL', [domainId])).rowCount ?? 0) > 0;
}

/** Largest TTL in a zone: the longest any cache may hold what a domain serving it handed out. */
export async function maxZoneTtl(c: Queryable, zoneId: number): Promise<number> {
  return (await c.query<{ m: number | null }>('SELECT max(ttl) AS m FROM records WHERE zone_id = $1', [zoneId])).rows[0].m ?? 0;
}

/** The tenant's pending switches due before `before`, soonest first. */
export async function upcomingSwitches(c: Queryable, tenantId: number, before: Date | null, limit: number): Promise<PendingZoneSwitch[]> {
  const { rows } = await c.query<PendingZoneSwitch>(
    `SELECT d.name AS domain, z.name AS from_zone, p.name AS zone, d.pzc_at AS at
       FROM domains d JOIN zones z ON z.id = d.zone_id JOIN zones p ON p.id = d.pzc_zone_id
      WHERE d.tenant_id = $1 AND d.pzc_at IS NOT NULL AND ($2::timestamptz IS NULL OR d.pzc_at < $2)
      ORDER BY d.pzc_at, d.name LIMIT $3`, [tenantId, before, limit]);
  return rows;
}

/** A scheduled RRset change: at `at`, the RRset (owner, type) becomes `rdatas` (none: deleted). */
export interface ScheduledRRset { zone: string; owner: string; type: number; ttl: number; rdatas: string[]; at: Date; failed: string | null; created_at: Date }

const SCHEDULED = `SELECT z.name AS zone, s.owner, s.type, s.ttl, s.rdatas, s.at, s.failed, s.created_at
  FROM scheduled_rrsets s JOIN zones z ON z.id = s.zone_id`;

export async function putScheduledRRset(c: Client, zoneId: number, s: { owner: string; type: number; ttl: number; rdatas: string[]; at: Date }): Promise<void> {
  await c.query(
    `INSERT INTO scheduled_rrsets (zone_id, owner, type, ttl, rdatas, at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (zone_id, owner, type) DO UPDATE SET ttl = EXCLUDED.ttl, rdatas = EXCLUDED.rdatas, at = EXCLUDED.at, failed = NULL`,
    [zoneId, s.owner, s.type, s.ttl, s.rdatas, s.at]);
}

export async function getScheduledRRset(c: Queryable, zoneId: number, owner: string, type: number): Promise<ScheduledRRset | undefined> {
  return (await c.query<ScheduledRRset>(`${SCHEDULED} WHERE s.zone_id = $1 AND s.owner = $2 AND s.type = $3`, [zoneId, owner, type])).rows[0];
}

export async function deleteScheduledRRset(c: Client, zoneId: number, owner: string, type: number): Promise<boolean> {
  return ((await c.query('DELETE FROM scheduled_rrsets WHERE zone_id = $1 AND owner = $2 AND type = $3', [zoneId, owner, type])).rowCount ?? 0) > 0;
}

/** The tenant's scheduled RRset changes (of one zone, when given) due before `before`, soonest first. */
export async function upcomingRRsets(c: Queryable, tenantId: number, o: { zoneId?: number; before: Date | null; limit: number }): Promise<ScheduledRRset[]> {
  const { rows } = await c.query<ScheduledRRset>(
    `${SCHEDULED} WHERE z.tenant_id = $1 AND ($2::bigint IS NULL OR s.zone_id = $2) AND ($3::timestamptz IS NULL OR s.at < $3)
      ORDER BY s.at, z.name, s.owner, s.type LIMIT $4`, [tenantId, o.zoneId ?? null, o.before, o.limit]);
  return rows;
}
