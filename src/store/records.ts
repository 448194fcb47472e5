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
 *  an apex of `apexWire` octets; one problem each, naming the RRset. */
function oversizedRRsets(byOwner: Map<string, Map<number, StoredRecord[]>>, apexWire: number): Problem[] {
  const problems: Problem[] = [];
  for (const [owner, types] of byOwner) {
    for (const [type, set] of types) {
      let bound = 0;
      for (const r of set) bound += roughRecordBound(r);
      if (bound + 12 + 255 + 15 <= MAX_MESSAGE) continue;
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
  }
  return problems;
}

/** Zone-wide rules that hold after any change (checked on the zone's whole new content).
 *  `apexWireLength`: of the longest domain that serves the zone (default: the root's, 1). */
export function checkZoneContent(records: readonly StoredRecord[], opts: { delegationOnly: boolean; requireApex: boolean; apexWireLength?: number }): void {
  const problems: Problem[] = [];
  const byOwner = new Map<string, Map<number, StoredRecord[]>>();
  for (const r of records) {
    let types = byOwner.get(r.owner);
    if (!types) byOwner.set(r.owner, (types = new Map()));
    const list = types.get(r.type);
    if (list) list.push(r); else types.set(r.type, [r]);
  }
  const apex = byOwner.get('@');
  if (opts.requireApex) {
    if ((apex?.get(TYPE.SOA)?.length ?? 0) !== 1) problems.push({ path: '@/SOA', problem: 'the apex needs exactly one SOA record (RFC 1035 5.2)' });
    if (!apex?.get(TYPE.NS)?.length) problems.push({ path: '@/NS', problem: 'the apex needs an NS RRset (RFC 1034 4.2.1)' });
  }
  const cuts: string[] = [];
  const dnames: string[] = [];
  for (const [owner, types] of byOwner) {
    if (types.has(TYPE.CNAME) && (types.size > 1 || types.get(TYPE.CNAME)!.length > 1)) {
      problems.push({ path: `${owner}/CNAME`, problem: 'a CNAME must stand alone at its owner, and only one (RFC 2181 10.1)' });
    }
    if (owner !== '@' && types.has(TYPE.SOA)) problems.push({ path: `${owner}/SOA`, problem: 'SOA belongs only at the apex' });
    if (owner !== '@' && types.has(TYPE.NS)) cuts.push(owner);
    if (types.has(TYPE.DNAME)) dnames.push(owner);
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
    // Name servers named by NS records in this zone (targets under the apex are stored relative).
    const nameServers = new Set<string>();
    for (const types of byOwner.values()) {
      for (const ns of types.get(TYPE.NS) ?? []) if (!ns.rdata.endsWith('.')) nameServers.add(ns.rdata.toLowerCase());
    }
    for (const [owner, types] of byOwner) {
      if (owner === '@') continue;
      if (owner === '*' || owner.startsWith('*.')) problems.push({ path: owner, problem: 'a delegation-only domain has no wildcards' });
      for (const t of types.keys()) {
        const ok = t === TYPE.NS || (t === TYPE.DS && types.has(TYPE.NS)) || (ADDRESS_TYPES.has(t) && nameServers.has(owner));
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
  const tooLarge = oversizedRRsets(byOwner, opts.apexWireLength ?? 1);
  if (tooLarge.length) throw new ZoneContentError(tooLarge, 'rrset_too_large');
}

/** Replaces the zone's records by `records`, writing only the difference (so the journal, and IXFR
 *  after it, carry exactly what changed). */
export async function replaceZoneRecords(c: Client, zoneId: number, records: readonly StoredRecord[]): Promise<void> {
  const want = new Map<string, StoredRecord>();
  for (const r of records) want.set(`${r.owner}\u0000${r.type}\u0000${r.ttl}\u0000${r.rdata}`, r);
  const have = await c.query<{ id: number; owner: string; type: number; ttl: number; rdata: string }>(
    'SELECT id, owner, type, ttl, rdata FROM records WHERE zone_id = $1 FOR UPDATE', [zoneId]);
  const gone: number[] = [];
  for (const r of have.rows) {
    const k = `${r.owner}\u0000${r.type}\u0000${r.ttl}\u0000${r.rdata}`;
    if (want.has(k)) want.delete(k); else gone.push(r.id);
  }
  if (gone.length) await c.query('DELETE FROM records WHERE id = ANY($1::bigint[])', [gone]);
  if (want.size) await insertRecords(c, zoneId, [...want.values()]);
}

export async function insertRecords(c: Client, zoneId: number, records: readonly StoredRecord[]): Promise<void> {
  await c.query(
    `INSERT INTO records (zone_id, owner, type, ttl, rdata)
     SELECT $1, * FROM unnest($2::text[], $3::int[], $4::int[], $5::text[])`,
    [zoneId, records.map((r) => r.owner), records.map((r) => r.type), records.map((r) => r.ttl), records.map((r) => r.rdata)]);
}

export async function loadZoneRecords(c: Client | Pool, zoneId: number): Promise<StoredRecord[]> {
  const { rows } = await c.query<StoredRecord>(
    'SELECT owner, type, ttl, rdata FROM records WHERE zone_id = $1 ORDER BY owner, type, rdata', [zoneId]);
  return rows;
}
