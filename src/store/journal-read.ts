// Reading the change journal for the API: what happened to one domain, and by whom.
import type { Queryable } from './tenants.js';

export interface Change {
  seq: number;
  at: Date;
  actor: string;
  entity: string;
  action: string;
  zone_id: number | null;
  domain: string | null;
  serial: number | null;
  details: unknown;
}

/** Journal rows of the domain itself, plus record changes of the zone it points at now, after
 *  `since`, oldest first. */
export async function domainChanges(c: Queryable, o: { domain: string; zoneId: number; since: number; limit: number }): Promise<Change[]> {
  const { rows } = await c.query<Change>(
    `SELECT seq, at, actor, entity, action, zone_id, domain_name AS domain, serial, details FROM journal
      WHERE seq > $3 AND (domain_name = $1 OR (entity = 'records' AND zone_id = $2))
      ORDER BY seq LIMIT $4`, [o.domain, o.zoneId, o.since, o.limit]);
  return rows;
}

/** The last journal sequence this database shows (on a standby: what it has replayed so far). */
export async function journalHead(c: Queryable): Promise<number> {
  return (await c.query<{ s: number }>('SELECT coalesce(max(seq), 0) AS s FROM journal')).rows[0].s;
}
