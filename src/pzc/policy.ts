// Progressive Zone Change, decided by the clock (pure): before T the domain serves its current zone
// with every TTL capped at the whole seconds left until T; from T on it serves the target zone,
// whether or not the scheduler has written the switch yet.
import type { Domain } from '../snapshot/domain.js';
import { zoneAt, type CompiledZone, type RRset } from '../snapshot/zone.js';

export interface LiveView {
  readonly zone: CompiledZone;
  readonly soa: RRset | undefined;
  /** Largest TTL that may be sent now; Infinity when no switch is pending. */
  readonly cap: number;
}

/** Seconds left until `at` (Unix seconds) at `nowMs`, rounded down so that nothing handed out
 *  now can outlive T, and never negative. */
export function secondsUntil(at: number, nowMs: number): number {
  return Math.max(0, Math.floor((at * 1000 - nowMs) / 1000));
}

/** Which zone the domain serves at `nowMs`, and the domain-wide cap. RRset-level changes of that
 *  zone are applied by the same clock (zoneAt); their own caps are found per RRset with
 *  pendingCap(). One mechanism: a pending change at T caps what it replaces until T. */
export function liveView(domain: Domain, nowMs: number): LiveView {
  const p = domain.pzc;
  if (!p) return { zone: zoneAt(domain.zone, nowMs), soa: domain.soa, cap: Infinity };
  if (nowMs >= p.at * 1000) return { zone: zoneAt(p.zone, nowMs), soa: p.soa, cap: Infinity };
  return { zone: zoneAt(domain.zone, nowMs), soa: domain.soa, cap: secondsUntil(p.at, nowMs) };
}

/** Cap for an RRset (node key, type) with a change pending at T; Infinity when none. With
 *  `anyType`, any pending change at the name counts (an NXDOMAIN for a name about to appear). */
export function pendingCap(zone: CompiledZone, key: string, type: number, nowMs: number, anyType = false): number {
  const m = zone.pending.get(key);
  if (!m) return Infinity;
  let at = m.get(type);
  if (anyType) for (const t of m.values()) if (at === undefined || t < at) at = t;
  return at === undefined ? Infinity : secondsUntil(at, nowMs);
}
