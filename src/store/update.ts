// SQL of dynamic UPDATE (RFC 2136) and of update policies. One UPDATE is one transaction: the domain
// row and its zone locked, the zone's records and the domain's policy read, the decision made by
// the caller (src/update/), the difference written through replaceZoneRecords, so the serial bump
// (once), the journal (actor: the TSIG key) and the IXFR history come from the same triggers as
// every other write.
import type { Client, Pool } from './db.js';
import { tx } from './db.js';
import type { Queryable } from './tenants.js';
import { lockZoneById, zoneUse } from './zones.js';
import { checkZoneContent, loadZoneRecords, replaceZoneRecords, ZoneContentError, type StoredRecord } from './records.js';

export interface PolicyRow { key: string; names: string[]; types: string[] }

export interface UpdateTarget {
  name: string;
  zone: string;
  delegationOnly: boolean;
  /** Other domains that serve the zone now or after a pending PZC. */
  sharedWith: string[];
  records: StoredRecord[];
  policy: PolicyRow[];
}

export interface UpdateDecision { rcode: number; why?: string; records?: StoredRecord[] }

export interface UpdateResult extends UpdateDecision {
  found: boolean;
  /** Journal sequence after the write; undefined when nothing was written. */
  seq?: number;
}

export async function getPolicy(c: Queryable, domainId: number): Promise<PolicyRow[]> {
  const { rows } = await c.query<PolicyRow>(
    'SELECT key_name AS key, names, types FROM update_policy WHERE domain_id = $1 ORDER BY key_name', [domainId]);
  return rows;
}

/** Replaces the domain's policy; an empty list removes it (every UPDATE REFUSED). */
export async function putPolicy(c: Client, domainId: number, rules: readonly PolicyRow[]): Promise<void> {
  await c.query('DELETE FROM update_policy WHERE domain_id = $1', [domainId]);
  for (const r of rules) {
    await c.query('INSERT INTO update_policy (domain_id, key_name, names, types) VALUES ($1, $2, $3, $4)', [domainId, r.key, r.names, r.types]);
  }
}

/** Runs one UPDATE against the domain `name` (lower-case key with the dot), whoever its tenant.
 *  `refused`: the rcode to answer when the new content breaks a zone rule (delegation-only). */
export async function runUpdate(pool: Pool, actor: string, name: string, refused: number,
  decide: (t: UpdateTarget) => UpdateDecision): Promise<UpdateResult> {
  const out = await tx(pool, actor, async (c): Promise<UpdateResult & { wrote?: boolean }> => {
    const d = (await c.query<{ id: number; zone_id: number; zone: string; delegation_only: boolean }>(
      `SELECT d.id, d.zone_id, z.name AS zone, d.delegation_only FROM domains d JOIN zones z ON z.id = d.zone_id
        WHERE d.name = $1 FOR UPDATE OF d`, [name])).rows[0];
    if (!d) return { found: false, rcode: 0 };
    const use = await zoneUse(c, d.zone_id);
    await lockZoneById(c, d.zone_id);
    const records = await loadZoneRecords(c, d.zone_id);
    const decision = decide({
      name, zone: d.zone, delegationOnly: d.delegation_only, sharedWith: use.domains.filter((n) => n !== name),
      records, policy: await getPolicy(c, d.id),
    });
    if (!decision.records) return { found: true, ...decision };
    try {
      checkZoneContent(decision.records, { delegationOnly: d.delegation_only, requireApex: true });
    } catch (e) {
      if (e instanceof ZoneContentError) return { found: true, rcode: refused, why: e.message };
      throw e;
    }
    await replaceZoneRecords(c, d.zone_id, decision.records);
    return { found: true, rcode: decision.rcode, why: decision.why, wrote: true };
  });
  if (!out.wrote) return out;
  // Journal numbers are given at COMMIT, in commit order: right after ours, the highest visible
  // number is ours or later.
  const seq = (await pool.query<{ s: number }>('SELECT coalesce(max(seq), 0) AS s FROM journal')).rows[0].s;
  return { found: out.found, rcode: out.rcode, why: out.why, seq };
}
