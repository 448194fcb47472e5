// RFC 2308 3: NXDOMAIN and NODATA answers carry the zone's SOA in the authority section, with the
// TTL of the SOA record or its MINIMUM field, whichever is less (RFC 2308 5).
import { compileName, type RRset } from '../snapshot/zone.js';
import type { Entry } from './resolve.js';

const APEX = compileName([], true);

export function negativeSoa(soa: RRset | undefined): Entry | undefined {
  const rr = soa?.rrs[0];
  if (!soa || !rr) return undefined;
  const fixed = rr.parts[rr.parts.length - 1];
  if (!(fixed instanceof Uint8Array) || fixed.length !== 20) return { owner: APEX, set: soa };
  const minimum = new DataView(fixed.buffer, fixed.byteOffset, 20).getUint32(16);
  return { owner: APEX, set: soa, ttl: Math.min(rr.ttl, minimum) };
}

/** The apex as an owner (relative, no labels). */
export const APEX_OWNER = APEX;
