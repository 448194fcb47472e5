// Zone content: validation of record sets as the API and importer receive them, the zone-wide
// rules, and the SQL that replaces or reads a zone's records.
import type { Client, Pool } from './db.js';
import { splitName, relativeKey, NameError, resolveZoneName } from '../dns/name.js';
import type { StoredRecord } from '../snapshot/zone.js';
import { typeCode, typeName, isMetaType, TYPE } from '../dns/constants.js';
import { parseRdata, formatRdata, RdataError } from '../dns/rdata.js';
import { MAX_MESSAGE, rdataAnswerLength, rrsetAnswerSize } from '../dns/message-size.js';

// Kept here too for the many callers that import them from the store.
export type { StoredRecord } from '../snapshot/zone.js';
export { resolveZoneName } from '../dns/name.js';

export interface Problem { path: string; problem: string }

export class ZoneContentError extends Error {
  /** `code`: the stable API error code when all problems share one cause (else invalid_data). */
  constructor(public readonly details: Problem[], public readonly code?: string) {
    super(details.map((d) => `${d.path}: ${d.problem}`).join('; '));
  }
}

/** RFC 2181 8: a TTL is an unsigned 31-bit number. */
export const MAX_TTL = 2147483647;


/** Owner key as stored: "@" for the apex, else the relative lower-case presentation form. */
export function ownerKey(text: string): string {
  const t = text.trim();
  if (t === '@' || t === '') return '@';
  if (t.endsWith('.')) throw new NameError(`owner "${t}" must be relative to the zone apex (no trailing dot; "@" for the apex)`);
  return relativeKey(splitName(t).labels);
}

/** Validates one RRset given in API form and returns it in canonical stored form, duplicates
 *  dropped (RFC 2181 5: an RRset holds no duplicate records). */
export function recordsFromText(owner: string, type: string, ttl: number, rdatas: string[], at = ''): StoredRecord[] {
  const problems: Problem[] = [];
  const p = (path: string, problem: string) => problems.push({ path: at + path, problem });
  let key = '@';
  try { key = ownerKey(owner); } catch (e) { p('owner', (e as Error).message); }
  const code = typeCode(type);
  if (code === undefined) p('type', `unknown record type "${type}"`);
  else if (isMetaType(code)) p('type', `${type} is a query type, not data (RFC 6895 3.1)`);
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL) p('ttl', `must be a whole number from 0 to ${MAX_TTL} (RFC 2181 8)`);
  if (rdatas.length === 0) p('records', 'an RRset needs at least one record (delete it instead)');
  const out = new Map<string, StoredRecord>();
  if (code !== undefined && !isMetaType(code)) {
    rdatas.forEach((text, i) => {
      try {
        const rdata = formatRdata(code, parseRdata(code, text, resolveZoneName));
        out.set(rdata, { owner: key, type: code, ttl, rdata });
      } catch (e) {
        if (e instanceof RdataError || e instanceof NameError) p(`records[${i}]`, e.message);
        else throw e;
      }
    });
  }
  if (problems.length) throw new ZoneContentError(problems);
  return [...out.values()];
}

const ADDRESS_TYPES = new Set<number>([TYPE.A, TYPE.AAAA]);

/** Wire length of the longest of these domain names (stored keys), the root's (1) when none:
 *  relative names in a zone grow by the apex of whichever domain serves it. */
export function longestApexWire(names: Iterable<string>): number {
  let max = 1;
  for (const n of names) {
    let w = 1;
    for (const l of splitName(n).labels) w += l.length + 1;
    max = Math.max(max, w);
  }
  return max;
}

/** Upper bound of one record's share of an answer, from its text alone: no rdata field takes more
 *  than 4 octets per character of presentation text, and a name grows by at most an apex. Lets
 *  the exact check below skip the RRsets that are obviously small. */
const roughRecordBound = (r: StoredRecord) => 12 + 4 * r.rdata.length + 4 * 256 + 16;

/** RFC 1035 4.2.2: RRsets whose smallest answer is over 65,535 octets (dns/message-size.ts), under
 *  an apex of `apexWire` octets; one problem each, naming the RRset. A first pass sums a rough
 *  upper bound per RRset (one number each); only RRsets that could be too large are then grouped
 *  and measured exactly, so a zone of small RRsets costs no list of records per owner. */
function oversizedRRsets(records: readonly StoredRecord[], apexWire: number): Problem[] {
  const rough = new Map<string, number>();
  for (const r of records) {
    const k = `${r.owner}\u0000${r.type}`;
    rough.set(k, (rough.get(k) ?? 0) + roughRecordBound(r));
  }
  const sets = new Map<string, StoredRecord[]>();
  for (const [k, bound] of rough) if (bound + 12 + 255 + 15 > MAX_MESSAGE) sets.set(k, []);
  if (!sets.size) return [];
  for (const r of records) sets.get(`${r.owner}\u0000${r.type}`)?.push(r);
  const problems: Problem[] = [];
  for (const set of sets.values()) {
    const { owner, type } = set[0];
    let qname = apexWire;
    if (owner !== '@') for (const l of splitName(owner).labels) qname += l.length + 1;
    const lengths = set.map((r) => rdataAnswerLength(type, parseRdata(type, r.rdata, resolveZoneName), apexWire));
    const size = rrsetAnswerSize(qname, lengths);
    if (size > MAX_MESSAGE) {
      problems.push({
        path: `${owner}/${typeName(type)}`,
        problem: `its ${set.length} records need ${size} octets in an answer, over the ${MAX_MESSAGE} a DNS message can hold (RFC 1035 4.2.2): it could never be served`,
      });
    }
  }
  return problems;
}

/** Zone-wide rules that hold after any change (checked on the zone's whole new content). Per owner
 *  it keeps only the list of its types (a zone file of 400,000 records has about as many owners: a
 *  Map of RRsets per owner cost a hundred MB there); record counts only where a rule needs them.
 *  `apexWireLength`: of the longest domain that serves the zone (default: the root's, 1). */
export function checkZoneContent(records: readonly StoredRecord[], opts: { delegationOnly: boolean; requireApex: boolean; apexWireLength?: number }): void {
  const problems: Problem[] = [];
  const byOwner = new Map<string, number[]>();
  const cnames = new Map<string, number>();
  let apexSoa = 0;
  // Name servers named by NS records in this zone (targets under the apex are stored relative).
  const nameServers = new Set<string>();
  for (const r of records) {
    const types = byOwner.get(r.owner);
    if (!types) byOwner.set(r.owner, [r.type]);
    else if (!types.includes(r.type)) types.push(r.type);
    if (r.type === TYPE.CNAME) cnames.set(r.owner, (cnames.get(r.owner) ?? 0) + 1);
    else if (r.type === TYPE.SOA && r.owner === '@') apexSoa++;
    else if (r.type === TYPE.NS && opts.delegationOnly && !r.rdata.endsWith('.')) nameServers.add(r.rdata.toLowerCase());
  }
  const apex = byOwner.get('@');
  if (opts.requireApex) {
    if (apexSoa !== 1) problems.push({ path: '@/SOA', problem: 'the apex needs exactly one SOA record (RFC 1035 5.2)' });
    if (!apex?.includes(TYPE.NS)) problems.push({ path: '@/NS', problem: 'the apex needs an NS RRset (RFC 1034 4.2.1)' });
  }
  const dnames: string[] = [];
  for (const [owner, types] of byOwner) {
    if (types.includes(TYPE.CNAME) && (types.length > 1 || cnames.get(owner)! > 1)) {
      problems.push({ path: `${owner}/CNAME`, problem: 'a CNAME must stand alone at its owner, and only one (RFC 2181 10.1)' });
    }
    if (owner !== '@' && types.includes(TYPE.SOA)) problems.push({ path: `${owner}/SOA`, problem: 'SOA belongs only at the apex' });
    if (types.includes(TYPE.DNAME)) dnames.push(owner);
  }
  // RFC 6672 2.4: no data below a DNAME owner.
  for (const d of dnames) {
    const suffix = d === '@' ? '' : '.' + d;
    for (const owner of byOwner.keys()) {
      if (owner !== d && (d === '@' ? owner !== '@' : owner.endsWith(suffix))) {
        problems.push({ path: `${owner}`, problem: `no data may sit below the DNAME at "${d}" (RFC 6672 2.4)` });
      }
    }
  }
  if (opts.delegationOnly) {
    // A registry zone serves its apex and hands out referrals: below the apex only delegations
    // (NS, DS) and the addresses of name servers.
    for (const [owner, types] of byOwner) {
      if (owner === '@') continue;
      if (owner === '*' || owner.startsWith('*.')) problems.push({ path: owner, problem: 'a delegation-only domain has no wildcards' });
      for (const t of types) {
        const ok = t === TYPE.NS || (t === TYPE.DS && types.includes(TYPE.NS)) || (ADDRESS_TYPES.has(t) && nameServers.has(owner));
        if (!ok) {
          problems.push({
            path: `${owner}/${typeName(t)}`,
            problem: ADDRESS_TYPES.has(t)
              ? 'in a delegation-only domain an address below the apex must belong to a name server some NS record names'
              : 'a delegation-only domain holds only NS delegations (with DS) and name-server addresses below its apex',
          });
        }
      }
    }
  }
  if (problems.length) throw new ZoneContentError(problems);
  const tooLarge = oversizedRRsets(records, opts.apexWireLength ?? 1);
  if (tooLarge.length) throw new ZoneContentError(tooLarge, 'rrset_too_large');
}

/** Replaces the zone's records by `records`, writing only the difference (so the journal, and IXFR
 *  after it, carry exactly what changed). */
export async function replaceZoneRecords(c: Client, zoneId: number, records: readonly StoredRecord[]): Promise<void> {
  // The health check a record names is part of it: naming another is a change (migration 013).
  const want = new Map<string, StoredRecord>();
  for (const r of records) want.set(`${r.owner}\u0000${r.type}\u0000${r.ttl}\u0000${r.rdata}\u0000${r.check ?? ''}`, r);
  const have = await c.query<{ id: number; owner: string; type: number; ttl: number; rdata: string; check: number | null }>(
    'SELECT id, owner, type, ttl, rdata, health_check_id AS "check" FROM records WHERE zone_id = $1 FOR UPDATE', [zoneId]);
  const gone: number[] = [];
  for (const r of have.rows) {
    const k = `${r.owner}\u0000${r.type}\u0000${r.ttl}\u0000${r.rdata}\u0000${r.check ?? ''}`;
    if (want.has(k)) want.delete(k); else gone.push(r.id);
  }
  if (gone.length) await c.query('DELETE FROM records WHERE id = ANY($1::bigint[])', [gone]);
  if (want.size) await insertRecords(c, zoneId, [...want.values()]);
}

/** replaceZoneRecords for a whole zone given as columns (a zone-file upload, a large PATCH), each
 *  an array literal (text[] owners and rdatas, int[] types and TTLs, bigint[] health-check ids): the
 *  difference is computed by PostgreSQL, so the API holds a few strings and nothing per record. Two
 *  statements, as there: the journal gets the records removed, then those added (in the order
 *  given, without duplicates). With `checks` the check a record names is part of it, as in
 *  replaceZoneRecords (migration 013); without (a zone file names none) a record kept keeps its check. */
export async function replaceZoneRecordColumns(c: Client, zoneId: number,
  cols: { owners: string; types: string; ttls: string; rdatas: string; checks?: string }, timeoutMs: number): Promise<void> {
  const withChecks = cols.checks !== undefined;
  const values = [zoneId, cols.owners, cols.types, cols.ttls, cols.rdatas, ...(withChecks ? [cols.checks] : [])];
  // Hundreds of thousands of rows take PostgreSQL a minute on a busy machine (the per-row CNAME
  // check and the journal's copy of every row): this transaction's statements get `timeoutMs`
  // rather than the API's usual statement timeout (pg reads query_timeout from the query config).
  await c.query(`SET LOCAL statement_timeout = ${Math.floor(timeoutMs)}`);
  const q = (text: string) => c.query({ text, values, query_timeout: timeoutMs + 1000 } as { text: string; values: unknown[] });
  const given = withChecks
    ? 'unnest($2::text[], $3::int[], $4::int[], $5::text[], $6::bigint[]) WITH ORDINALITY AS n(owner, type, ttl, rdata, "check", ord)'
    : 'unnest($2::text[], $3::int[], $4::int[], $5::text[]) WITH ORDINALITY AS n(owner, type, ttl, rdata, ord)';
  const same = (a: string, b: string, check: string) =>
    `${a}.owner = ${b}.owner AND ${a}.type = ${b}.type AND ${a}.ttl = ${b}.ttl AND ${a}.rdata = ${b}.rdata${withChecks ? ` AND ${check}` : ''}`;
  const check = withChecks ? ', "check"' : '';
  await q(
    `DELETE FROM records r WHERE r.zone_id = $1 AND NOT EXISTS (
       SELECT 1 FROM ${given} WHERE ${same('n', 'r', 'n."check" IS NOT DISTINCT FROM r.health_check_id')})`);
  await q(
    `INSERT INTO records (zone_id, owner, type, ttl, rdata${withChecks ? ', health_check_id' : ''})
     SELECT $1, owner, type, ttl, rdata${check} FROM (
       SELECT DISTINCT ON (owner, type, ttl, rdata) owner, type, ttl, rdata${check}, ord FROM ${given} ORDER BY owner, type, ttl, rdata, ord) d
     WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.zone_id = $1 AND ${same('r', 'd', 'r.health_check_id IS NOT DISTINCT FROM d."check"')})
     ORDER BY ord`);
  // The deferred CNAME check runs here, under this timeout, rather than in COMMIT under the usual one.
  await c.query({ text: 'SET CONSTRAINTS records_cname_alone IMMEDIATE', query_timeout: timeoutMs + 1000 } as { text: string });
}

export async function insertRecords(c: Client, zoneId: number, records: readonly StoredRecord[]): Promise<void> {
  if (records.some((r) => r.check)) {
    await c.query(
      `INSERT INTO records (zone_id, owner, type, ttl, rdata, health_check_id)
       SELECT $1, * FROM unnest($2::text[], $3::int[], $4::int[], $5::text[], $6::bigint[])`,
      [zoneId, records.map((r) => r.owner), records.map((r) => r.type), records.map((r) => r.ttl), records.map((r) => r.rdata), records.map((r) => r.check ?? null)]);
    return;
  }
  await c.query(
    `INSERT INTO records (zone_id, owner, type, ttl, rdata)
     SELECT $1, * FROM unnest($2::text[], $3::int[], $4::int[], $5::text[])`,
    [zoneId, records.map((r) => r.owner), records.map((r) => r.type), records.map((r) => r.ttl), records.map((r) => r.rdata)]);
}

/** The zone's records as one JSON text, `[[owner, type, ttl, rdata, check], ...]` in
 *  loadZoneRecords' order (check: the health check's id, null for none), for a thread to parse:
 *  the API's event loop gets one string, not an object per record. */
export async function loadZoneRecordsJson(c: Client, zoneId: number): Promise<string> {
  const { rows } = await c.query<{ j: string }>(
    `SELECT coalesce(json_agg(json_build_array(owner, type, ttl, rdata, health_check_id) ORDER BY owner, type, rdata), '[]')::text AS j
       FROM records WHERE zone_id = $1`, [zoneId]);
  return rows[0].j;
}

export async function loadZoneRecords(c: Client | Pool, zoneId: number): Promise<StoredRecord[]> {
  const { rows } = await c.query<StoredRecord>(
    'SELECT owner, type, ttl, rdata, health_check_id AS "check" FROM records WHERE zone_id = $1 ORDER BY owner, type, rdata', [zoneId]);
  for (const r of rows) if (r.check === null) delete r.check; // only records that name a check carry it
  return rows;
}
