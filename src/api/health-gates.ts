// The health checks records name in RRset writes (issue 20): `"health_checks": {"<record>":
// "<check>"}` beside `records`, keyed by a record as written (matched in canonical form), and the
// warning for a gated RRset whose TTL outlives a state change by much (GATED_TTL_WARN).
import type { FastifyRequest } from 'fastify';
import type { Client } from '../store/db.js';
import { checkIds } from '../store/health.js';
import { ZoneContentError, resolveZoneName, type Problem, type StoredRecord } from '../store/records.js';
import { formatRdata, parseRdata } from '../dns/rdata.js';
import { typeName } from '../dns/constants.js';
import { ApiError } from './errors.js';

/** Seconds: a gated RRset with a longer TTL is warned about. Resolvers keep an answer this long,
 *  so a record whose check went down is still handed out by them for up to its TTL. */
export const GATED_TTL_WARN = 60;

export type GateMap = Record<string, string>;
export interface Gate { record: StoredRecord; check: string; path: string }
export interface Warning { code: string; message: string }

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

/** Sets each gated record's check id (the tenant's checks); 422 unknown_health_check naming the
 *  fields whose check the tenant does not have. */
export async function resolveGates(db: Client, tenantId: number | null, gates: readonly Gate[]): Promise<void> {
  if (gates.length === 0) return;
  const ids = tenantId === null ? new Map<string, number>() : await checkIds(db, tenantId, [...new Set(gates.map((g) => g.check))]);
  const missing = gates.filter((g) => !ids.has(g.check));
  if (missing.length) {
    throw new ApiError('unknown_health_check', `no health check ${missing.map((g) => `"${g.check}"`).join(', ')}: create it with POST /v1/health-checks`,
      missing.map((g) => ({ path: g.path, problem: `no health check "${g.check}"` })));
  }
  for (const g of gates) g.record.check = ids.get(g.check);
}

/** Warnings (and one log line each) for gated RRsets whose TTL is over GATED_TTL_WARN. */
export function gatedTtlWarnings(req: FastifyRequest, sets: ReadonlyArray<readonly StoredRecord[]>): Warning[] {
  const out: Warning[] = [];
  for (const set of sets) {
    if (!set.some((r) => r.check)) continue;
    const ttl = Math.min(...set.map((r) => r.ttl));
    if (ttl <= GATED_TTL_WARN) continue;
    const name = `${set[0].owner}/${typeName(set[0].type)}`;
    out.push({
      code: 'gated_ttl_long',
      message: `${name} is health-gated with a TTL of ${ttl} s: resolvers may hand out a record up to ${ttl} s after its check went down; ${GATED_TTL_WARN} s or less is advised`,
    });
    req.log.warn({ rrset: name, ttl, limit: GATED_TTL_WARN }, 'health-gated RRset with a long TTL');
  }
  return out;
}
