// Zones that include zones (issue 20, migrations/015_zone_includes.sql): the include lists, the
// checks made when one is written (missing zones, cycles), and the included zones' data read
// beside a zone's for the snapshot and the API (the merge itself is pure: snapshot/includes.ts).
import type { Client } from './db.js';
import type { Queryable } from './tenants.js';
import type { StoredRecord } from './records.js';
import type { ScheduledRRset } from '../snapshot/zone.js';
import { flattenZone, includeOrder, type OwnSource } from '../snapshot/includes.js';

/** A rule an include list breaks; the API turns `code` into its error. */
export class IncludeError extends Error {
  constructor(readonly code: 'include_not_found' | 'include_cycle', message: string, readonly path: string) { super(message); }
}

/** The zone's include list, by name, in order. */
export async function getIncludes(c: Queryable, zoneId: number): Promise<string[]> {
  const { rows } = await c.query<{ name: string }>(
    'SELECT z.name FROM zone_includes i JOIN zones z ON z.id = i.included_id WHERE i.zone_id = $1 ORDER BY i.position', [zoneId]);
  return rows.map((r) => r.name);
}

/** Zones that include this one directly, by name. */
export async function includers(c: Queryable, zoneId: number): Promise<string[]> {
  const { rows } = await c.query<{ name: string }>(
    'SELECT z.name FROM zone_includes i JOIN zones z ON z.id = i.zone_id WHERE i.included_id = $1 ORDER BY z.name', [zoneId]);
  return rows.map((r) => r.name);
}

/** Replaces the zone's include list (in the caller's transaction, the zone row locked). Every name
 *  must be a zone of the same tenant; no zone may come to include itself, directly or through a
 *  chain. The graph lock is the one the database's own cycle check takes (015): two writers of
 *  include lists go one after the other, so neither can close a cycle the other cannot see. */
export async function setIncludes(c: Client, tenantId: number, zone: { id: number; name: string }, names: readonly string[]): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock(7406395139)');
  const ids: number[] = [];
  const seen = new Set<string>();
  for (const [i, name] of names.entries()) {
    const path = `includes[${i}]`;
    if (seen.has(name)) throw new IncludeError('include_cycle', `zone "${name}" is included twice`, path);
    seen.add(name);
    if (name === zone.name) throw new IncludeError('include_cycle', `zone "${name}" cannot include itself`, path);
    const { rows } = await c.query<{ id: number }>('SELECT id FROM zones WHERE tenant_id = $1 AND name = $2 FOR KEY SHARE', [tenantId, name]);
    if (!rows[0]) throw new IncludeError('include_not_found', `zone "${name}" does not exist`, path);
    // Does `name` reach the zone through its own includes? Then the zone would include itself.
    const chain = await c.query<{ path: string[] }>(
      `WITH RECURSIVE reach(id, path) AS (
         SELECT $1::bigint, ARRAY[]::text[]
         UNION
         SELECT i.included_id, r.path || z.name FROM zone_includes i JOIN reach r ON i.zone_id = r.id
           JOIN zones z ON z.id = i.included_id WHERE cardinality(r.path) < 64)
       SELECT path FROM reach WHERE id = $2 LIMIT 1`, [rows[0].id, zone.id]);
    if (chain.rows[0]) {
      const via = [name, ...chain.rows[0].path].join(' -> ');
      throw new IncludeError('include_cycle', `including "${name}" would make a cycle: ${via}`, path);
    }
    ids.push(rows[0].id);
  }
  const cur = (await c.query<{ included_id: number }>('SELECT included_id FROM zone_includes WHERE zone_id = $1 ORDER BY position', [zone.id])).rows;
  if (cur.length === ids.length && cur.every((r, i) => Number(r.included_id) === ids[i])) return; // nothing changes: no serial moves
  await c.query('DELETE FROM zone_includes WHERE zone_id = $1', [zone.id]);
  if (ids.length) {
    await c.query(
      `INSERT INTO zone_includes (zone_id, tenant_id, position, included_id)
       SELECT $1, $2, p - 1, id FROM unnest($3::bigint[]) WITH ORDINALITY AS t(id, p)`, [zone.id, tenantId, ids]);
  }
}

interface RawZone { records: StoredRecord[]; schedules: ScheduledRRset[] }

/** For each of `zones` that includes others: the included zones' own data, in include order
 *  (snapshot/includes.ts includeOrder), read in the caller's (consistent) transaction. */
export async function includedSources(c: Queryable, zones: ReadonlyMap<number, RawZone>): Promise<Map<number, OwnSource[]>> {
  const out = new Map<number, OwnSource[]>();
  if (zones.size === 0) return out;
  const edges = (await c.query<{ zone_id: number; included_id: number }>(
    `WITH RECURSIVE cl(id) AS (
       SELECT zone_id FROM zone_includes WHERE zone_id = ANY($1::bigint[])
       UNION
       SELECT i.included_id FROM zone_includes i JOIN cl ON i.zone_id = cl.id)
     SELECT i.zone_id, i.included_id FROM zone_includes i WHERE i.zone_id IN (SELECT id FROM cl)
      ORDER BY i.zone_id, i.position`, [[...zones.keys()]])).rows;
  if (edges.length === 0) return out;
  const lists = new Map<number, number[]>();
  for (const e of edges) {
    const z = Number(e.zone_id);
    const l = lists.get(z);
    if (l) l.push(Number(e.included_id)); else lists.set(z, [Number(e.included_id)]);
  }
  const need = new Set<number>();
  const orders = new Map<number, number[]>();
  for (const id of zones.keys()) {
    if (!lists.has(id)) continue;
    const order = includeOrder(id, (z) => lists.get(z));
    orders.set(id, order);
    for (const i of order) if (!zones.has(i)) need.add(i);
  }
  const raw = new Map<number, RawZone>(zones);
  if (need.size) {
    const ids = [...need];
    for (const id of ids) raw.set(id, { records: [], schedules: [] });
    // With the health check a record names (migrations/013): it stays gated where it is included.
    const recs = await c.query<StoredRecord & { zone_id: number }>(
      'SELECT zone_id, owner, type, ttl, rdata, health_check_id AS "check" FROM records WHERE zone_id = ANY($1::bigint[])', [ids]);
    for (const r of recs.rows) if (r.check === null) delete r.check;
    for (const r of recs.rows) raw.get(Number(r.zone_id))!.records.push(r);
    const sched = await c.query<ScheduledRRset & { zone_id: number }>(
      'SELECT zone_id, owner, type, ttl, rdatas, at FROM scheduled_rrsets WHERE zone_id = ANY($1::bigint[]) AND failed IS NULL', [ids]);
    for (const r of sched.rows) raw.get(Number(r.zone_id))!.schedules.push(r);
  }
  for (const [id, order] of orders) out.set(id, order.map((i) => raw.get(i)!));
  return out;
}

/** The records a zone serves (its own with its includes merged in) as of now, each with the zone
 *  it comes from; scheduled changes not yet applied are left out, as in the zone's own listing. */
export async function effectiveRecords(c: Queryable, zoneId: number): Promise<Array<StoredRecord & { zone: string }>> {
  const { rows } = await c.query<StoredRecord & { zone_id: number }>(
    'SELECT zone_id, owner, type, ttl, rdata, health_check_id AS "check" FROM records WHERE zone_id = $1 ORDER BY id', [zoneId]);
  for (const r of rows) if (r.check === null) delete r.check;
  const own = new Map<number, RawZone>([[zoneId, { records: rows, schedules: [] }]]);
  const included = (await includedSources(c, own)).get(zoneId) ?? [];
  const merged = flattenZone({ records: rows, schedules: [] }, included.map((s) => ({ records: s.records, schedules: [] }))).records;
  const ids = [...new Set(merged.map((r) => Number((r as StoredRecord & { zone_id: number }).zone_id)))];
  const names = new Map((await c.query<{ id: number; name: string }>('SELECT id, name FROM zones WHERE id = ANY($1::bigint[])', [ids])).rows.map((z) => [Number(z.id), z.name]));
  return merged.map((r) => {
    const z = Number((r as StoredRecord & { zone_id: number }).zone_id);
    return { owner: r.owner, type: r.type, ttl: r.ttl, rdata: r.rdata, ...(r.check ? { check: r.check } : {}), zone: names.get(z) ?? '' };
  });
}
