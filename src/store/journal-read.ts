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

/** Journal rows of the domain itself (by its id: a name that changed hands has a new id, so its
 *  previous owner's history, transfer settings included, stays out), plus the record changes of the
 *  zone it points at now since the domain was created, all of its tenant, after `since`, oldest
 *  first. Two index scans (journal_domain_id, journal_zone) merged. */
export async function domainChanges(c: Queryable, o: {
  domainId: number; tenantId: number; zoneId: number; createdAt: Date; since: number; limit: number;
}): Promise<Change[]> {
  const cols = 'seq, at, actor, entity, action, zone_id, domain_name AS domain, serial, details';
  const { rows } = await c.query<Change>(
    `(SELECT ${cols} FROM journal WHERE domain_id = $1 AND tenant_id = $2 AND seq > $4 ORDER BY seq LIMIT $6)
     UNION ALL
     (SELECT ${cols} FROM journal WHERE zone_id = $3 AND entity = 'records' AND tenant_id = $2 AND seq > $4 AND at >= $5
       ORDER BY seq LIMIT $6)
     ORDER BY seq LIMIT $6`, [o.domainId, o.tenantId, o.zoneId, o.since, o.createdAt, o.limit]);
  return rows;
}

/** The last journal sequence this database shows (on a standby: what it has replayed so far). */
export async function journalHead(c: Queryable): Promise<number> {
  return (await c.query<{ s: number }>('SELECT coalesce(max(seq), 0) AS s FROM journal')).rows[0].s;
}
