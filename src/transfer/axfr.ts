// AXFR (RFC 5936): the whole domain as served now: its SOA first and last (2.2), every other
// record of the live zone in between (glue under cuts included, 2.2.1), with the TTLs the query
// path would serve (the PZC cap until a pending switch, src/pzc/policy.ts). Pure.
import { TYPE } from '../dns/constants.js';
import type { Domain } from '../snapshot/domain.js';
import { liveView, pendingCap } from '../pzc/policy.js';
import { compileName, type RRset, type CompiledName } from '../snapshot/zone.js';
import type { TransferRR } from './message.js';

const APEX: CompiledName = compileName([], true);

export function soaRecord(soa: RRset, cap: number): TransferRR {
  const rr = soa.rrs[0];
  return { owner: APEX, type: TYPE.SOA, ttl: Math.min(rr.ttl, cap), parts: rr.parts, compress: soa.compress };
}

/** The records of an AXFR of `domain` at `nowMs`, SOA first and last; undefined when the domain
 *  has no SOA to serve (it is not transferable then). */
export function axfrRecords(domain: Domain, nowMs: number): TransferRR[] | undefined {
  const view = liveView(domain, nowMs);
  if (!view.soa || view.soa.rrs.length === 0) return undefined;
  const soa = soaRecord(view.soa, Math.min(view.cap, pendingCap(view.zone, '', TYPE.SOA, nowMs)));
  const out: TransferRR[] = [soa];
  // Every record, health-gated or not: a secondary cannot run the checks (README, Health checks).
  for (const node of (view.zone.ungated ?? view.zone).nodes.values()) {
    for (const set of node.rrsets.values()) {
      if (node.key === '' && set.type === TYPE.SOA) continue;
      const cap = Math.min(view.cap, pendingCap(view.zone, node.key, set.type, nowMs));
      for (const rr of set.rrs) {
        out.push({ owner: node.name, type: set.type, ttl: rr.ttl < cap ? rr.ttl : cap, parts: rr.parts, compress: set.compress });
      }
    }
  }
  out.push(soa);
  return out;
}

/** The serial a transfer of `domain` at `nowMs` carries. */
export function liveSerial(domain: Domain, nowMs: number): number | undefined {
  const soa = liveView(domain, nowMs).soa;
  const fixed = soa?.rrs[0]?.parts.find((p): p is Uint8Array => p instanceof Uint8Array && p.length === 20);
  return fixed ? new DataView(fixed.buffer, fixed.byteOffset, 20).getUint32(0) : undefined;
}
