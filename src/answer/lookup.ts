// RFC 1034 4.3.2 step 3 inside one zone, for one name: a result union the resolver composes into
// sections. Pure; reads only the compiled zone.
import { TYPE } from '../dns/constants.js';
import { nameExists, type CompiledZone, type RRset, type ZoneNode } from '../snapshot/zone.js';

export type Lookup =
  /** The name (or the wildcard that covers it, RFC 4592) has the RRset asked for. */
  | { kind: 'hit'; set: RRset; key: string; node: ZoneNode }
  /** A CNAME at the name (RFC 1034 4.3.2 step 3a): answer it and follow its target. */
  | { kind: 'cname'; set: RRset; key: string; node: ZoneNode }
  /** The name exists (maybe as an empty non-terminal: no node) but not with that type (RFC 2308
   *  2.2); `node`: where its types are (the wildcard for a synthesized name). */
  | { kind: 'nodata'; node?: ZoneNode }
  /** No such name and no wildcard covers it (RFC 2308 2.1). */
  | { kind: 'nxdomain' }
  /** A zone cut at or above the name (RFC 1034 4.3.2 step 3b). */
  | { kind: 'referral'; cut: ZoneNode }
  /** A DNAME above the name (RFC 6672 3.2): `depth` labels of the name lie below its owner. */
  | { kind: 'dname'; node: ZoneNode; set: RRset; depth: number };

const NODATA: Lookup = { kind: 'nodata' };
const NXDOMAIN: Lookup = { kind: 'nxdomain' };

/** `keys`: the name relative to the apex, lower-case key labels, leftmost first ([] = the apex). */
export function lookup(zone: CompiledZone, keys: readonly string[], qtype: number, delegationOnly: boolean): Lookup {
  const n = keys.length;
  if (n > 0 && zone.hasDname) {
    const apexDname = zone.nodes.get('')?.rrsets.get(TYPE.DNAME);
    if (apexDname) return { kind: 'dname', node: zone.nodes.get('')!, set: apexDname, depth: n };
  }
  // Walk the ancestors from just below the apex down to the parent: a cut or a DNAME there decides
  // the answer, and the deepest existing one is the closest encloser (RFC 4592 3.3.1).
  let suffix = '';
  let closest = '';
  for (let i = n - 1; i >= 1; i--) {
    suffix = i === n - 1 ? keys[i] : keys[i] + '.' + suffix;
    if (!nameExists(zone, suffix)) return wildcard(zone, closest, qtype, delegationOnly);
    closest = suffix;
    const node = zone.nodes.get(suffix);
    if (node) {
      if (node.cut) return { kind: 'referral', cut: node };
      const dname = zone.hasDname ? node.rrsets.get(TYPE.DNAME) : undefined;
      if (dname) return { kind: 'dname', node, set: dname, depth: i };
    }
  }
  const full = n === 0 ? '' : n === 1 ? keys[0] : keys[0] + '.' + suffix;
  if (!nameExists(zone, full)) return wildcard(zone, closest, qtype, delegationOnly);
  const node = zone.nodes.get(full);
  if (!node) return NODATA; // empty non-terminal (RFC 4592 2.2.2)
  // DS belongs to the parent side of a cut (RFC 4035 3.1.4.1): answer it here, not with a referral.
  if (node.cut && qtype !== TYPE.DS) return { kind: 'referral', cut: node };
  return fromNode(node, qtype);
}

/** `key` in results is the node the data came from (the wildcard for synthesized answers). */
function fromNode(node: ZoneNode, qtype: number): Lookup {
  if (qtype === TYPE.ANY) return anyOf(node);
  const set = node.rrsets.get(qtype);
  if (set) return { kind: 'hit', set, key: node.key, node };
  const cname = node.rrsets.get(TYPE.CNAME);
  if (cname) return { kind: 'cname', set: cname, key: node.key, node };
  return { kind: 'nodata', node };
}

/** RFC 4592 3.3.1: the source of synthesis is "*." + the closest encloser. No wildcard in a
 *  delegation-only domain: it hands out referrals and NXDOMAIN, nothing else. */
function wildcard(zone: CompiledZone, closest: string, qtype: number, delegationOnly: boolean): Lookup {
  if (delegationOnly || !zone.hasWildcard) return NXDOMAIN;
  const source = zone.nodes.get(closest === '' ? '*' : '*.' + closest);
  if (!source) return NXDOMAIN;
  return fromNode(source, qtype);
}

/** RFC 8482 4.1: answer ANY with one RRset rather than all. A CNAME is what the name is (RFC
 *  1034 3.6.2); otherwise the RRset of the lowest type keeps the choice stable. */
function anyOf(node: ZoneNode): Lookup {
  const cname = node.rrsets.get(TYPE.CNAME);
  if (cname) return { kind: 'hit', set: cname, key: node.key, node };
  let best: RRset | undefined;
  for (const set of node.rrsets.values()) if (!best || set.type < best.type) best = set;
  return best ? { kind: 'hit', set: best, key: node.key, node } : { kind: 'nodata', node };
}
