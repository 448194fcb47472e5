// Reads what the snapshot is built from: domain rows, zone records, and the journal position they
// correspond to, all in one REPEATABLE READ transaction so the three agree.
import type { Pool, Client } from './db.js';
import { readSnapshot } from './db.js';
import type { StoredRecord } from './records.js';
import type { DomainRow } from '../snapshot/domain.js';
import type { ScheduledRRset } from '../snapshot/zone.js';
import type { KekHolder } from './key-file.js';
import { loadDnssec } from './dnssec-keys.js';
import { downChecks } from './health.js';
import { includedSources } from './zone-includes.js';
import type { OwnSource } from '../snapshot/includes.js';
import { PackedZoneData, packedIntact, unpackDomains, type PackedRecords } from '../snapshot/packed.js';

export interface ZoneData {
  records: StoredRecord[]; schedules: ScheduledRRset[]; serial: number; gates?: StoredRecord[];
  /** The records in packed form (snapshot/packed.ts); `records` unpacks them when asked. */
  packed?: PackedRecords;
  /** The zones it includes, in include order (issue 20): the snapshot serves them merged under it. */
  included?: OwnSource[];
}

export interface JournalEntry {
  seq: number;
  entity: 'zone' | 'records' | 'domain' | 'transfer' | 'health';
  action: string;
  zone_id: number | null;
  domain_name: string | null;
  details: { old_zone_id?: number; pzc_zone_id?: number | null };
}

export interface Loaded {
  seq: number;
  domains: DomainRow[];
  zones: Map<number, ZoneData>;
  /** Health checks that are down. */
  down: number[];
}

const DOMAIN_COLUMNS = 'id, name, zone_id, delegation_only, serial_offset, pzc_zone_id, pzc_at';
/** Domains per packed row of readDomains (by id range). */
const DOMAIN_CHUNK = 50_000;

/** Every domain row, for a whole load. Packed by the database into one string per DOMAIN_CHUNK ids
 *  (`id US zone_id US delegation_only US serial_offset US pzc_zone_id US pzc_at US name`, RS
 *  between domains): node-postgres spends about 2.6 µs on each row it parses, 2.9 s of a
 *  million-domain load on the event loop before the first zone is read; this takes a fifth of
 *  that. The name comes last, so a US inside it (only plain SQL can write one) is harmless; a
 *  chunk whose names hold RS is read as rows. */
async function readDomains(c: Client): Promise<DomainRow[]> {
  const { rows } = await c.query<{ k: number; n: number; text: string }>(
    `SELECT id / ${DOMAIN_CHUNK} AS k, count(*)::int AS n,
            string_agg(id || E'\\x1f' || zone_id || E'\\x1f' || delegation_only::int || E'\\x1f' || serial_offset || E'\\x1f'
                       || coalesce(pzc_zone_id::text, '') || E'\\x1f' || coalesce(extract(epoch FROM pzc_at)::bigint::text, '')
                       || E'\\x1f' || name, E'\\x1e') AS text
       FROM domains GROUP BY 1`);
  const out: DomainRow[] = [];
  for (const r of rows) {
    if (packedIntact(r.text, r.n)) { unpackDomains(r.text, out); continue; }
    const plain = await c.query<DomainRow>(`SELECT ${DOMAIN_COLUMNS} FROM domains WHERE id >= $1 AND id < $2`,
      [r.k * DOMAIN_CHUNK, (r.k + 1) * DOMAIN_CHUNK]);
    for (const d of plain.rows) out.push(d);
  }
  return out;
}

/** One consistent view of the database for a whole load. */
const readOnly = readSnapshot;

/** Which of the rarely used tables hold anything a load reads: zoneRecords asks only those for
 *  each batch (at a million domains the others' queries were 4-5 s of the database's time, nearly
 *  all of it finding nothing). Read in the load's own transaction, so it agrees with the rest. */
interface Present { schedules: boolean; gates: boolean; includes: boolean }

const PRESENT_COLUMNS = `EXISTS (SELECT 1 FROM scheduled_rrsets WHERE failed IS NULL) AS schedules,
  EXISTS (SELECT 1 FROM records WHERE health_check_id IS NOT NULL) AS gates,
  EXISTS (SELECT 1 FROM zone_includes) AS includes`;

async function present(c: Client): Promise<Present> {
  return (await c.query<Present>(`SELECT ${PRESENT_COLUMNS}`)).rows[0];
}

async function zoneRecords(c: Client, ids: number[], has: Present): Promise<Map<number, ZoneData>> {
  const zones = new Map<number, PackedZoneData>();
  if (ids.length === 0) return zones;
  // The ids as one array literal: node-postgres would quote each of the 2,000 elements itself.
  const idList = `{${ids.join(',')}}`;
  const serials = await c.query<{ id: number; serial: number }>('SELECT id, serial FROM zones WHERE id = ANY($1::bigint[])', [idList]);
  for (const z of serials.rows) zones.set(z.id, new PackedZoneData(z.serial));
  // One row per zone, its records packed into one string (snapshot/packed.ts): parsing 13 million
  // rows is most of a million-domain load. Sorted by owner (compilePackedZone takes an owner's
  // records as one run), then in the order added (the order served within an RRset).
  // An owner holding US (only plain SQL can write one) would split its record in the wrong place:
  // such a zone is read as rows too.
  const { rows } = await c.query<{ zone_id: number; n: number; max_ttl: number; text: string; odd_owner: boolean }>(
    `SELECT zone_id, count(*)::int AS n, max(ttl) AS max_ttl, bool_or(strpos(owner, E'\\x1f') > 0) AS odd_owner,
            string_agg(owner || E'\\x1f' || type || E'\\x1f' || ttl || E'\\x1f' || rdata, E'\\x1e' ORDER BY owner, type, id) AS text
       FROM records WHERE zone_id = ANY($1::bigint[]) GROUP BY zone_id`, [idList]);
  const asRows: number[] = [];
  for (const r of rows) {
    if (!r.odd_owner && packedIntact(r.text, r.n)) zones.get(r.zone_id)!.packed = { text: r.text, count: r.n, maxTtl: r.max_ttl };
    else asRows.push(r.zone_id);
  }
  // A zone whose data holds the record separator (U+001E in a TXT string, say) is read as rows.
  if (asRows.length) {
    const plain = await c.query<StoredRecord & { zone_id: number }>(
      'SELECT zone_id, owner, type, ttl, rdata FROM records WHERE zone_id = ANY($1::bigint[]) ORDER BY owner, type, id', [asRows]);
    for (const r of plain.rows) zones.get(r.zone_id)!.records.push(r);
  }
  if (has.schedules) {
    const sched = await c.query<ScheduledRRset & { zone_id: number }>(
      'SELECT zone_id, owner, type, ttl, rdatas, at FROM scheduled_rrsets WHERE zone_id = ANY($1::bigint[]) AND failed IS NULL', [idList]);
    for (const r of sched.rows) zones.get(r.zone_id)!.schedules.push(r);
  }
  if (has.gates) {
    // Records that name a health check, apart (a partial index; nearly every zone has none).
    const gates = await c.query<StoredRecord & { zone_id: number }>(
      `SELECT zone_id, owner, type, ttl, rdata, health_check_id AS "check" FROM records
        WHERE zone_id = ANY($1::bigint[]) AND health_check_id IS NOT NULL`, [idList]);
    for (const r of gates.rows) (zones.get(r.zone_id)!.gates ??= []).push(r);
  }
  if (has.includes) for (const [id, included] of await includedSources(c, zones)) zones.get(id)!.included = included;
  return zones;
}

/** DNSSEC keys (decrypted) onto the domain rows that have any. */
async function attachDnssec(c: Client, kek: KekHolder, domains: DomainRow[], ids: number[] | 'all'): Promise<void> {
  if (ids !== 'all' && ids.length === 0) return;
  const keys = await loadDnssec(c, kek, ids);
  if (keys.size === 0) return;
  for (const d of domains) {
    const k = keys.get(d.id);
    if (k) d.dnssec = k;
  }
}

function referencedZones(domains: DomainRow[]): number[] {
  const ids = new Set<number>();
  for (const d of domains) {
    ids.add(d.zone_id);
    if (d.pzc_zone_id !== null) ids.add(d.pzc_zone_id);
  }
  return [...ids];
}

/** Zones read per query by loadAll when streaming: about 25,000 records for hosted zones. */
const ZONE_BATCH = 2000;
const SLICE = 200;

/** Everything served, for the first snapshot. With `onZones`, zone data is handed over batch by
 *  batch as it is read (and `zones` comes back empty), so the rows of a large database never all
 *  sit in memory beside the snapshot being built from them. The next batch is already asked for
 *  while `onZones` works on the current one. `meanwhile`, given the domain rows, is work to do while
 *  waiting for a batch (false: none left), in steps with a turn of the event loop between them. */
export async function loadAll(pool: Pool, onZones?: (zones: Map<number, ZoneData>) => void, kek?: KekHolder,
  meanwhile?: (domains: readonly DomainRow[]) => boolean): Promise<Loaded> {
  return readOnly(pool, async (c) => {
    const seq = (await c.query<{ s: number }>('SELECT coalesce(max(seq), 0) AS s FROM journal')).rows[0].s;
    const domains = await readDomains(c);
    if (kek) await attachDnssec(c, kek, domains, 'all');
    const down = await downChecks(c);
    const ids = referencedZones(domains);
    const has = await present(c);
    if (!onZones) return { seq, domains, zones: await zoneRecords(c, ids, has), down };
    let work = meanwhile ? () => meanwhile(domains) : undefined;
    let next = zoneRecords(c, ids.slice(0, ZONE_BATCH), has);
    for (let i = 0; i < ids.length; i += ZONE_BATCH) {
      if (work && !(await whileWaiting(next, work))) work = undefined;
      const batch = await next;
      if (i + ZONE_BATCH < ids.length) next = zoneRecords(c, ids.slice(i + ZONE_BATCH, i + 2 * ZONE_BATCH), has);
      // Handed over in slices with a turn of the event loop between them: the next batch's queries
      // go one after another on this connection, each sent when the last one's answer is read, and
      // a whole batch at once kept PostgreSQL idle while it was compiled (a third of a
      // million-domain load spent waiting).
      let slice = new Map<number, ZoneData>();
      for (const [id, z] of batch) {
        slice.set(id, z);
        if (slice.size < SLICE) continue;
        onZones(slice);
        slice = new Map();
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (slice.size) onZones(slice);
    }
    return { seq, domains, zones: new Map(), down };
  });
}

/** Calls `work` until `p` settles, with a turn of the event loop (where `p`'s rows are read) between
 *  calls; returns whether `work` has more to do. */
async function whileWaiting(p: Promise<unknown>, work: () => boolean): Promise<boolean> {
  let settled = false;
  void p.then(() => { settled = true; }, () => { settled = true; });
  await Promise.resolve(); // an already settled `p` is seen before any work
  while (!settled) {
    if (!work()) return false;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return true;
}

export interface Delta {
  seq: number;
  entries: JournalEntry[];
  /** Current rows of every domain named in the entries (a zone edit names none: the snapshot binds
   *  the domains of a zone to its new version without reading them). */
  domains: DomainRow[];
  /** Names from the entries that no longer exist. */
  goneDomains: string[];
  /** Fresh records of changed zones still in use, and of zones newly referenced. */
  zones: Map<number, ZoneData>;
  changedZones: number[];
  /** Every health check that is down, when one changed state (undefined otherwise). */
  down?: number[];
}

/** What changed after `since`, and the current data of everything it touched; 'reload' when rows
 *  after `since` were pruned by retention (journal_horizon): the caller must load everything. */
export async function loadDelta(pool: Pool, since: number, knownZones: { has(id: number): boolean }, limit = 5000, kek?: KekHolder): Promise<Delta | 'reload' | undefined> {
  return readOnly(pool, async (c) => {
    // Which rarely used tables hold anything comes with the horizon, in the same statement: a
    // delta of one zone then reads it in two queries instead of five (an edit's way to the answers).
    const head = (await c.query<Present & { horizon: number }>(
      `SELECT coalesce((SELECT seq FROM journal_horizon), 0) AS horizon, ${PRESENT_COLUMNS}`)).rows[0];
    if (since < head.horizon) return 'reload';
    const entries = (await c.query<JournalEntry>(
      // Only the keys the feed reads: a records entry's details hold every row added and removed
      // (400,000 for a 10 MiB zone file), which every worker would otherwise parse on its event loop.
      `SELECT seq, entity, action, zone_id, domain_name,
              jsonb_strip_nulls(jsonb_build_object('old_zone_id', details->'old_zone_id', 'pzc_zone_id', details->'pzc_zone_id')) AS details
         FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [since, limit])).rows;
    if (entries.length === 0) return undefined;
    const zoneIds = new Set<number>();
    const names = new Set<string>();
    let health = false;
    for (const e of entries) {
      if (e.entity === 'health') {
        health = true;
      } else if (e.entity === 'domain') {
        if (e.domain_name) names.add(e.domain_name);
      } else if (e.zone_id !== null) {
        zoneIds.add(e.zone_id);
      }
    }
    const changedZones = [...zoneIds];
    // Only the domains named by the entries (index on name): a record change reads its zone, not
    // the rows of the 100,000 domains that may be served from it.
    const domains = names.size === 0 ? [] : (await c.query<DomainRow>(
      `SELECT ${DOMAIN_COLUMNS} FROM domains WHERE name = ANY($1::text[])`, [[...names]])).rows;
    if (kek) await attachDnssec(c, kek, domains, domains.map((d) => d.id));
    const present = new Set(domains.map((d) => d.name));
    const referenced = new Set(referencedZones(domains));
    const need = [...new Set([...changedZones.filter((id) => knownZones.has(id) || referenced.has(id)),
      ...[...referenced].filter((id) => !knownZones.has(id))])];
    return {
      seq: entries[entries.length - 1].seq,
      entries,
      domains,
      goneDomains: [...names].filter((n) => !present.has(n)),
      zones: await zoneRecords(c, need, head),
      changedZones,
      down: health ? await downChecks(c) : undefined,
    };
  });
}
