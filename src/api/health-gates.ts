// The health checks records name in RRset writes (issue 20): `"health_checks": {"<record>":
// "<check>"}` beside `records`, keyed by a record as written (matched in canonical form), and the
// warning for a gated RRset whose TTL outlives a state change by much (GATED_TTL_WARN). Pure (no
// database, no fastify at run time): a large PATCH runs it in a thread (rrset-batch-thread.ts);
// the check names become ids in health-gate-ids.ts.
import type { FastifyRequest } from 'fastify';
import { ZoneContentError, resolveZoneName, type Problem, type StoredRecord } from '../store/records.js';
import { formatRdata, parseRdata } from '../dns/rdata.js';
import { typeName } from '../dns/constants.js';

/** Seconds: a gated RRset with a longer TTL is warned about. Resolvers keep an answer this long,
 *  so a record whose check went down is still handed out by them for up to its TTL. */
export const GATED_TTL_WARN = 60;

export type GateMap = Record<string, string>;
export interface Gate { record: StoredRecord; check: string; path: string }
export interface Warning { code: string; message: string }
/** A gated_ttl_long warning with what its log line names. */
export interface TtlWarning extends Warning { rrset: string; ttl: number }

/** Health-gated records (issue 20): record -> the name of the health check that gates it. */
export const healthChecksField = {
  type: 'object', additionalProperties: { type: 'string' }, maxProperties: 10000,
  description: 'Records that are served only while a health check is up: {"<record as in records>": "<check name>"}. When every record of the RRset is down, all are served (fail open).',
} as const;

/** The records of a validated set that `map` gates; 422 for a key that is none of them. */
export function gatesOf(set: readonly StoredRecord[], map: GateMap | undefined, at = ''): Gate[] {
  if (!map || set.length === 0) return [];
  const byRdata = new Map(set.map((r) => [r.rdata, r]));
  const problems: Problem[] = [];
  const gates: Gate[] = [];
  for (const [key, check] of Object.entries(map)) {
    const path = `${at}health_checks.${key}`;
    let rdata: string | undefined;
    try { rdata = formatRdata(set[0].type, parseRdata(set[0].type, key, resolveZoneName)); } catch { rdata = undefined; }
    const record = rdata === undefined ? undefined : byRdata.get(rdata);
    if (!record) problems.push({ path, problem: 'not one of the records of this RRset' });
    else gates.push({ record, check, path });
  }
  if (problems.length) throw new ZoneContentError(problems);
  return gates;
}

/** Check names by id of the gates resolved. */
export const namesOf = (gates: readonly Gate[]) => new Map(gates.map((g) => [g.record.check!, g.check]));

/** gated_ttl_long for each gated RRset (its records' check ids set) whose TTL is over GATED_TTL_WARN. */
export function ttlWarnings(sets: ReadonlyArray<readonly StoredRecord[]>): TtlWarning[] {
  const out: TtlWarning[] = [];
  for (const set of sets) {
    if (!set.some((r) => r.check)) continue;
    const ttl = Math.min(...set.map((r) => r.ttl));
    if (ttl <= GATED_TTL_WARN) continue;
    const rrset = `${set[0].owner}/${typeName(set[0].type)}`;
    out.push({
      code: 'gated_ttl_long', rrset, ttl,
      message: `${rrset} is health-gated with a TTL of ${ttl} s: resolvers may hand out a record up to ${ttl} s after its check went down; ${GATED_TTL_WARN} s or less is advised`,
    });
  }
  return out;
}

/** One log line per warning; the warnings as the response carries them. */
export function logTtlWarnings(req: FastifyRequest, warnings: readonly TtlWarning[]): Warning[] {
  return warnings.map(({ code, message, rrset, ttl }) => {
    req.log.warn({ rrset, ttl, limit: GATED_TTL_WARN }, 'health-gated RRset with a long TTL');
    return { code, message };
  });
}

/** Warnings (and one log line each) for gated RRsets whose TTL is over GATED_TTL_WARN. */
export const gatedTtlWarnings = (req: FastifyRequest, sets: ReadonlyArray<readonly StoredRecord[]>): Warning[] => logTtlWarnings(req, ttlWarnings(sets));
