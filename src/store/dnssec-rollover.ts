// SQL of DNSSEC key rollovers (migrations/016_dnssec_rollover.sql): starting one, the steps the
// scheduler takes (dnssec/rollover.ts says the phases and their waits), and the parent's DS check.
// Every time comes from the caller's clock (tests inject one), never from the database's now().
// Each step runs in one transaction on a row locked FOR UPDATE SKIP LOCKED: with several servers
// on one database, exactly one takes it.
import type { Client, Pool } from './db.js';
import type { Queryable } from './tenants.js';
import { tx } from './db.js';
import type { Kek } from './key-file.js';
import { addKey, domainKeys } from './dnssec-keys.js';
import { dsText } from '../dnssec/keys.js';
import { rolloverTiming, dnskeyTtl, dsWait, dsKey, type RolloverInputs, type RolloverPhase, type RolloverTiming } from '../dnssec/rollover.js';

export const ROLLOVER_ACTOR = 'dnssec-rollover';

/** What the scheduler and the API need: the clock and Dprp (GLIDEPATH_DNSSEC_PROPAGATION_DELAY). */
export interface RolloverSettings { now: () => number; propagationDelay: number }

export class RolloverError extends Error {
  constructor(readonly code: 'not_signed' | 'rollover_in_progress' | 'rollover_not_waiting', message: string) { super(message); }
}

interface Row {
  domain_id: number; old_key_id: number; new_key_id: number; phase: RolloverPhase;
  started_at: Date; phase_at: Date; next_at: Date | null; ds_seen_at: Date | null; ds_ttl: number | null;
  parent_domain_id: number | null; timing: Record<string, number>;
}

/** The rollover as the API and CLI show it. */
export interface RolloverView {
  phase: RolloverPhase; started_at: Date; phase_started_at: Date; next_at: Date | null;
  old_key_tag: number; new_key_tag: number; parent: string | null; ds_seen_at: Date | null;
  timing: Record<string, number>;
}

const at = (ms: number) => new Date(ms);

/** The intervals in the row (and the API), in seconds, snake_case. */
function timingJson(t: RolloverTiming): Record<string, number> {
  return { dnskey_ttl: t.dnskeyTtl, max_zone_ttl: t.maxZoneTtl, propagation_delay: t.propagationDelay, ipub: t.ipub, iret: t.iret };
}
const plus = (ms: number, seconds: number) => new Date(ms + seconds * 1000);

/** The TTLs a rollover waits for: every zone the domain may serve while it runs (its own, that of
 *  a pending PZC) and the RRset changes scheduled in them. */
export async function rolloverInputs(c: Queryable, domainId: number, propagationDelay: number): Promise<RolloverInputs> {
  const { rows } = await c.query<{ max_ttl: number | null; soa_ttl: number | null }>(
    `WITH z AS (SELECT zone_id AS id FROM domains WHERE id = $1
                UNION SELECT pzc_zone_id FROM domains WHERE id = $1 AND pzc_zone_id IS NOT NULL)
     SELECT greatest((SELECT max(ttl) FROM records WHERE zone_id IN (SELECT id FROM z)),
                     (SELECT max(ttl) FROM scheduled_rrsets WHERE zone_id IN (SELECT id FROM z))) AS max_ttl,
            (SELECT max(ttl) FROM records WHERE zone_id IN (SELECT id FROM z) AND owner = '@' AND type = 6) AS soa_ttl`, [domainId]);
  const key = dnskeyTtl(rows[0].soa_ttl ?? undefined);
  return { dnskeyTtl: key, maxZoneTtl: rows[0].max_ttl ?? 0, propagationDelay };
}

/** The closest enclosing domain served here, whose zone holds (or should hold) this domain's DS. */
async function parentDomain(c: Queryable, name: string): Promise<number | null> {
  const { rows } = await c.query<{ id: number }>(
    `SELECT id FROM domains WHERE name <> $1 AND right($1, length(name) + 1) = '.' || name
      ORDER BY length(name) DESC LIMIT 1`, [name]);
  return rows[0]?.id ?? null;
}

/** Starts a rollover: a new key of the same algorithm, published (not signing). The caller holds
 *  the domain row locked (FOR UPDATE), so two requests cannot both start one. */
export async function startRollover(c: Client, kek: Kek, d: { id: number; name: string }, s: RolloverSettings): Promise<void> {
  const keys = await domainKeys(c, d.id);
  const active = keys.find((k) => k.state === 'active');
  if (!active) throw new RolloverError('not_signed', `${d.name} is not signed; turn signing on first (PUT /v1/domains/{name}/dnssec)`);
  const running = (await c.query<{ phase: string }>('SELECT phase FROM dnssec_rollovers WHERE domain_id = $1', [d.id])).rows[0];
  if (running || keys.length > 1) {
    throw new RolloverError('rollover_in_progress', `a key rollover of ${d.name} is running (phase ${running?.phase ?? 'retire'}); wait until it ends`);
  }
  const now = s.now();
  const timing = rolloverTiming(await rolloverInputs(c, d.id, s.propagationDelay));
  const fresh = await addKey(c, kek, d.id, active.algorithm, 'published');
  await c.query(
    `INSERT INTO dnssec_rollovers (domain_id, old_key_id, new_key_id, phase, started_at, phase_at, next_at, parent_domain_id, timing)
     VALUES ($1, $2, $3, 'publish', $4, $4, $5, $6, $7)`,
    [d.id, active.id, fresh.id, at(now), plus(now, timing.ipub), await parentDomain(c, d.name), timingJson(timing)]);
}

export async function rolloverView(c: Queryable, domainId: number): Promise<RolloverView | null> {
  const r = (await c.query<Row & { old_tag: number; new_tag: number; parent: string | null }>(
    `SELECT r.*, o.key_tag AS old_tag, n.key_tag AS new_tag, p.name AS parent
       FROM dnssec_rollovers r JOIN dnssec_keys o ON o.id = r.old_key_id JOIN dnssec_keys n ON n.id = r.new_key_id
       LEFT JOIN domains p ON p.id = r.parent_domain_id WHERE r.domain_id = $1`, [domainId])).rows[0];
  if (!r) return null;
  return {
    phase: r.phase, started_at: r.started_at, phase_started_at: r.phase_at, next_at: r.next_at,
    old_key_tag: r.old_tag, new_key_tag: r.new_tag, parent: r.parent, ds_seen_at: r.ds_seen_at,
    timing: r.timing,
  };
}

/** The operator says the new key's DS is at the parent (a parent not served here); `dsTtl`: the
 *  TTL of the parent's DS RRset. */
export async function confirmDs(c: Client, d: { id: number; name: string }, dsTtl: number, s: RolloverSettings): Promise<void> {
  const r = (await c.query<Row>('SELECT * FROM dnssec_rollovers WHERE domain_id = $1 FOR UPDATE', [d.id])).rows[0];
  if (!r || r.phase === 'retire' || r.ds_seen_at) {
    throw new RolloverError('rollover_not_waiting', `no key rollover of ${d.name} is waiting for its DS at the parent`);
  }
  await markDsSeen(c, r, dsTtl, s);
}

async function markDsSeen(c: Client, r: Row, dsTtl: number, s: RolloverSettings): Promise<void> {
  const now = s.now();
  // In the publish phase the DNSKEY wait still runs; the DS wait counts from now either way.
  const dsDue = now + dsWait(dsTtl, s.propagationDelay) * 1000;
  const next = r.phase === 'publish' ? Math.max(r.next_at!.getTime(), dsDue) : dsDue;
  await c.query(
    `UPDATE dnssec_rollovers SET ds_seen_at = $2, ds_ttl = $3, next_at = $4, timing = timing || $5 WHERE domain_id = $1`,
    [r.domain_id, at(now), dsTtl, at(next), { ds_ttl: dsTtl, ds_wait: dsWait(dsTtl, s.propagationDelay) }]);
}

/** TTL of the parent's DS RRset when it holds one of the new key's DS (digest type 2 or 4). */
async function dsAtParent(c: Queryable, r: Row, name: string): Promise<number | undefined> {
  if (r.parent_domain_id === null) return undefined;
  const p = (await c.query<{ name: string; zone_id: number }>('SELECT name, zone_id FROM domains WHERE id = $1', [r.parent_domain_id])).rows[0];
  if (!p) return undefined;
  const owner = name.slice(0, name.length - p.name.length - 1);
  const key = (await c.query<{ flags: number; algorithm: number; public_key: Buffer }>('SELECT flags, algorithm, public_key FROM dnssec_keys WHERE id = $1', [r.new_key_id])).rows[0];
  const want = new Set(([2, 4] as const).map((t) => dsKey(dsText(name, { flags: key.flags, algorithm: key.algorithm, publicKey: key.public_key }, t))));
  const { rows } = await c.query<{ ttl: number; rdata: string }>('SELECT ttl, rdata FROM records WHERE zone_id = $1 AND owner = $2 AND type = 43', [p.zone_id, owner]);
  if (!rows.some((x) => want.has(dsKey(x.rdata)))) return undefined;
  return Math.max(...rows.map((x) => x.ttl));
}

export interface RolloverStep { domain: string; phase: RolloverPhase | 'done'; next_at: Date | null }

/** One step of one due rollover, in its own transaction; undefined when another server holds it or
 *  nothing is due after all. */
async function step(pool: Pool, domainId: number, s: RolloverSettings): Promise<RolloverStep | undefined> {
  return tx(pool, ROLLOVER_ACTOR, async (c) => {
    const r = (await c.query<Row & { name: string }>(
      `SELECT r.*, d.name FROM dnssec_rollovers r JOIN domains d ON d.id = r.domain_id
        WHERE r.domain_id = $1 FOR UPDATE OF r SKIP LOCKED`, [domainId])).rows[0];
    if (!r) return undefined;
    const now = s.now();
    const due = r.next_at !== null && r.next_at.getTime() <= now;
    if (r.phase !== 'retire' && !r.ds_seen_at) {
      // The DS is looked for from the start: a fast parent shortens nothing, but is noticed.
      const ttl = await dsAtParent(c, r, r.name);
      if (ttl !== undefined) {
        await markDsSeen(c, r, ttl, s);
        return { domain: r.name, phase: r.phase, next_at: (await c.query<{ next_at: Date }>('SELECT next_at FROM dnssec_rollovers WHERE domain_id = $1', [r.domain_id])).rows[0].next_at };
      }
    }
    if (!due) return undefined;
    if (r.phase === 'publish' && !r.ds_seen_at) {
      // Ipub has passed; the parent has not got the new DS yet: wait for it (no time limit).
      await c.query(`UPDATE dnssec_rollovers SET phase = 'ds', phase_at = $2, next_at = NULL WHERE domain_id = $1`, [r.domain_id, at(now)]);
      return { domain: r.name, phase: 'ds', next_at: null };
    }
    if (r.phase === 'publish' || r.phase === 'ds') {
      // Both waits are over: the new key signs, the old one stays published (RFC 7583 3.2.1).
      const timing = rolloverTiming(await rolloverInputs(c, r.domain_id, s.propagationDelay));
      await c.query(`UPDATE dnssec_keys SET state = CASE WHEN id = $2 THEN 'active' ELSE 'retired' END WHERE id IN ($1, $2)`, [r.old_key_id, r.new_key_id]);
      const next = plus(now, timing.iret);
      await c.query(`UPDATE dnssec_rollovers SET phase = 'retire', phase_at = $2, next_at = $3, timing = timing || $4 WHERE domain_id = $1`,
        [r.domain_id, at(now), next, timingJson(timing)]);
      return { domain: r.name, phase: 'retire', next_at: next };
    }
    // retire is over: the old key goes (and the rollover row with it, ON DELETE CASCADE).
    await c.query('DELETE FROM dnssec_keys WHERE id = $1', [r.old_key_id]);
    return { domain: r.name, phase: 'done', next_at: null };
  });
}

/** Takes every step that is due at the settings' clock. */
export async function applyDueRollovers(pool: Pool, s: RolloverSettings): Promise<RolloverStep[]> {
  const { rows } = await pool.query<{ domain_id: number }>(
    `SELECT domain_id FROM dnssec_rollovers
      WHERE next_at <= $1 OR (phase <> 'retire' AND ds_seen_at IS NULL AND parent_domain_id IS NOT NULL)
      ORDER BY next_at NULLS LAST LIMIT 1000`, [at(s.now())]);
  const out: RolloverStep[] = [];
  for (const { domain_id } of rows) {
    const r = await step(pool, domain_id, s);
    if (r) out.push(r);
  }
  return out;
}
