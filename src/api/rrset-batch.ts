// A batch of RRset changes (PATCH /v1/zones/{zone}/rrsets) as pure steps: validate every change,
// apply them in one pass to the zone's records, check the zone-wide rules on the result. Run on
// the API's event loop for a small batch, in rrset-batch-thread.ts for a large one.
import { recordsFromText, checkZoneContent, ownerKey, ZoneContentError, type StoredRecord, type Problem } from '../store/records.js';
import { TYPE, typeName, typeCode, isMetaType } from '../dns/constants.js';
import { NameError } from '../dns/name.js';
import { gatesOf, type Gate, type GateMap } from './health-gates.js';

export type Change = { owner: string; type: string; ttl?: number; records?: string[]; health_checks?: GateMap; delete?: true };
/** Replace (or, with an empty set, delete) the RRset at `key`. */
export type Step = { key: { owner: string; type: number }; set: StoredRecord[] };
export interface RRset { owner: string; type: string; ttl: number; records: string[]; health_checks?: Record<string, string> }
/** What the zone-wide rules depend on besides the records (store/zones.ts zoneUse). */
export interface ZoneRules { delegationOnly: boolean; served: boolean; apexWireLength: number }

/** Every change validated, all problems reported at once (ZoneContentError); the gates are the
 *  records of the steps that name a health check (their ids set later: health-gate-ids.ts). */
export function validateChanges(changes: readonly Change[]): { steps: Step[]; gates: Gate[] } {
  const problems: Problem[] = [];
  const steps: Step[] = [];
  const gates: Gate[] = [];
  for (let i = 0; i < changes.length; i++) {
    const ch = changes[i];
    try {
      if (ch.delete) steps.push({ key: rrsetKey(ch.owner, ch.type, `changes[${i}].`), set: [] });
      else {
        const set = recordsFromText(ch.owner, ch.type, ch.ttl!, ch.records!, `changes[${i}].`);
        gates.push(...gatesOf(set, ch.health_checks, `changes[${i}].`));
        steps.push({ key: { owner: set[0].owner, type: set[0].type }, set });
      }
    } catch (e) {
      if (e instanceof ZoneContentError) problems.push(...e.details); else throw e;
    }
  }
  if (problems.length) throw new ZoneContentError(problems);
  return { steps, gates };
}

/** A gate as it crosses between threads: its record by step and place in that step's set. */
export type GateRef = [step: number, record: number, check: string, path: string];

/** The gates of validated steps (validateChanges) as GateRefs. */
export function gateRefs(steps: readonly Step[], gates: readonly Gate[]): GateRef[] {
  const at = new Map<StoredRecord, [number, number]>();
  steps.forEach((s, i) => s.set.forEach((r, j) => at.set(r, [i, j])));
  return gates.map((g) => [...at.get(g.record)!, g.check, g.path]);
}

/** Sets each gated record's check id, in the gates' order as resolveGates does (health-gate-ids.ts):
 *  `ids` are the tenant's ids of the checks named, resolved by the API in the write's transaction. */
export function setGateIds(steps: readonly Step[], refs: readonly GateRef[], ids: ReadonlyMap<string, number>): void {
  for (const [i, j, check] of refs) {
    const id = ids.get(check);
    if (id === undefined) throw new Error(`health check "${check}" was not resolved`);
    steps[i].set[j].check = id;
  }
}

/** The records after replacing (or, with an empty set, deleting) each RRset in turn; a replaced
 *  set moves to the end, as `[...without(rs, key), ...set]` would put it. In one pass over the
 *  records and the steps: a 10,000-change batch on a large zone used to copy the zone per change. */
export function applySteps(cur: readonly StoredRecord[], steps: readonly Step[]): StoredRecord[] {
  const sets = new Map<string, StoredRecord[]>();
  for (const r of cur) {
    const k = `${r.owner}\u0000${r.type}`;
    const list = sets.get(k);
    if (list) list.push(r); else sets.set(k, [r]);
  }
  for (const s of steps) {
    const k = `${s.key.owner}\u0000${s.key.type}`;
    sets.delete(k);
    if (s.set.length) sets.set(k, s.set);
  }
  return [...sets.values()].flat();
}

/** The zone's new content and the RRsets the batch touched, as they are after it; throws
 *  ZoneContentError when the result breaks a zone-wide rule (editZone's rule for the apex: a
 *  zone that a domain serves, or that already has its apex, keeps an apex SOA and NS). The touched
 *  RRsets hold only the batch's records: `checkNames` (id -> name) are the checks its gates name. */
export function applyBatch(cur: readonly StoredRecord[], steps: readonly Step[], rules: ZoneRules, checkNames?: ReadonlyMap<number, string>): { next: StoredRecord[]; touched: RRset[] } {
  const next = applySteps(cur, steps);
  const hadApex = cur.some((r) => r.owner === '@' && r.type === TYPE.SOA) && cur.some((r) => r.owner === '@' && r.type === TYPE.NS);
  checkZoneContent(next, { delegationOnly: rules.delegationOnly, requireApex: rules.served || hadApex, apexWireLength: rules.apexWireLength });
  const keys = new Set(steps.map((s) => `${s.key.owner}\u0000${s.key.type}`));
  return { next, touched: toRRsets(next.filter((r) => keys.has(`${r.owner}\u0000${r.type}`)), checkNames) };
}

/** Groups stored records into RRsets: apex first, then by owner and type. The TTL shown is the
 *  lowest of the set (RFC 2181 5.2 wants them equal; an imported file may not have had that). */
export function toRRsets(records: readonly StoredRecord[], checkNames?: ReadonlyMap<number, string>): RRset[] {
  const sets = new Map<string, { owner: string; type: number; ttl: number; records: string[]; health_checks?: Record<string, string> }>();
  for (const r of records) {
    const k = `${r.owner}\u0000${r.type}`;
    let s = sets.get(k);
    if (s) { s.records.push(r.rdata); s.ttl = Math.min(s.ttl, r.ttl); } else sets.set(k, (s = { owner: r.owner, type: r.type, ttl: r.ttl, records: [r.rdata] }));
    // The health check a record names (api/health-gates.ts), by name, keyed by the record.
    const check = r.check ? checkNames?.get(r.check) : undefined;
    if (check) (s.health_checks ??= {})[r.rdata] = check;
  }
  return [...sets.values()]
    .sort((a, b) => (a.owner === b.owner ? a.type - b.type : a.owner === '@' ? -1 : b.owner === '@' ? 1 : a.owner < b.owner ? -1 : 1))
    .map((s) => ({ owner: s.owner, type: typeName(s.type), ttl: s.ttl, records: s.records.sort(), ...(s.health_checks ? { health_checks: s.health_checks } : {}) }));
}

/** Owner key and type code of an RRset address; 422 when either is not valid DNS. */
export function rrsetKey(owner: string, type: string, at = ''): { owner: string; type: number } {
  const problems: Problem[] = [];
  let key = '@';
  try { key = ownerKey(owner); } catch (e) { if (e instanceof NameError) problems.push({ path: `${at}owner`, problem: e.message }); else throw e; }
  const code = typeCode(type);
  if (code === undefined || isMetaType(code)) problems.push({ path: `${at}type`, problem: `"${type}" is not a record type` });
  if (problems.length) throw new ZoneContentError(problems);
  return { owner: key, type: code! };
}
