// AXFR of a signed domain (RFC 4035 2): the zone as a secondary must serve it, fully signed offline
// at transfer time: DNSKEY (and CDS/CDNSKEY) at the apex, an RRSIG for every authoritative RRset,
// and a complete NSEC chain in canonical order (RFC 4034 6.1) over the authoritative names, so that
// NSD or Knot answers validly without any key. Delegation NS and glue are not signed; names below a
// cut are not in the chain (RFC 4035 2.3). Signatures come from the query path's cache. Pure.
import { TYPE } from '../dns/constants.js';
import type { Domain } from '../snapshot/domain.js';
import { liveView, pendingCap } from '../pzc/policy.js';
import { compileName, type CompiledName, type RRset, type ZoneNode } from '../snapshot/zone.js';
import { canonicalWire, type SignatureCache, type Rrsig } from '../dnssec/sign.js';
import { typeBitmap, NSEC_SELF } from '../dnssec/nsec.js';
import type { SigningKey } from '../dnssec/keys.js';
import { apexDnssecSet, apexDnssecTypes, CDS, CDNSKEY } from '../answer/dnssec-records.js';
import { negativeSoa } from '../answer/negative.js';
import type { TransferRR } from './message.js';
import { soaRecord } from './axfr.js';

const APEX: CompiledName = compileName([], true);

function lower(l: string): string {
  return l.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** RFC 4034 6.1: compare names label by label from the right, as lower-case octets. */
function canonicalCompare(a: readonly string[], b: readonly string[]): number {
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const x = lower(a[a.length - i]);
    const y = lower(b[b.length - i]);
    if (x !== y) {
      const n = Math.min(x.length, y.length);
      for (let k = 0; k < n; k++) if (x.charCodeAt(k) !== y.charCodeAt(k)) return x.charCodeAt(k) - y.charCodeAt(k);
      return x.length - y.length;
    }
  }
  return a.length - b.length;
}

export function signedAxfrRecords(domain: Domain, nowMs: number, sigs: SignatureCache, key: SigningKey): TransferRR[] | undefined {
  const view = liveView(domain, nowMs);
  if (!view.soa || view.soa.rrs.length === 0) return undefined;
  const nowSec = Math.floor(nowMs / 1000);
  const zone = view.zone.ungated ?? view.zone; // every record, gated or not (as axfr.ts)
  const capOf = (node: string, type: number) => Math.min(view.cap, pendingCap(zone, node, type, nowMs));
  const soa = soaRecord(view.soa, capOf('', TYPE.SOA));
  const negTtl = Math.min(negativeSoa(view.soa)?.ttl ?? view.soa.rrs[0].ttl, view.cap);
  const out: TransferRR[] = [soa];

  const cuts = new Set<string>();
  for (const n of zone.nodes.values()) if (n.cut) cuts.add(n.name.keys.join('.'));
  const occluded = (n: ZoneNode) => {
    const k = n.name.keys;
    for (let i = 1; i < k.length; i++) if (cuts.has(k.slice(i).join('.'))) return true;
    return false;
  };
  const signOne = (owner: CompiledName, set: RRset, cap: number, contentKey?: string) => {
    const sig: Rrsig = sigs.get(set, canonicalWire(owner.labels, domain.labels), domain.labels, key, nowSec, contentKey);
    out.push({ owner, type: TYPE.RRSIG, ttl: Math.min(sig.originalTtl, cap), parts: [sig.fixed, APEX, sig.signature], compress: false });
  };
  const emit = (owner: CompiledName, set: RRset, cap: number, sign: boolean) => {
    for (const rr of set.rrs) out.push({ owner, type: set.type, ttl: Math.min(rr.ttl, cap), parts: rr.parts, compress: set.compress });
    if (sign) signOne(owner, set, cap);
  };

  // Authoritative names in canonical order: every node not below a cut (the apex first).
  const names = [...zone.nodes.values()].filter((n) => !occluded(n)).sort((a, b) => canonicalCompare(a.name.labels, b.name.labels));
  if (!zone.nodes.has('')) names.unshift({ key: '', name: APEX, rrsets: new Map(), cut: false });
  for (let i = 0; i < names.length; i++) {
    const node = names[i];
    const apex = node.key === '';
    const types: number[] = [];
    for (const set of node.rrsets.values()) {
      if (node.cut && set.type !== TYPE.NS && set.type !== TYPE.DS) continue; // glue at the cut name is the child's
      types.push(set.type);
      const s = apex && set.type === TYPE.SOA ? undefined : set;
      if (!s) { signOne(APEX, view.soa, capOf('', TYPE.SOA)); continue; } // the SOA itself is first and last
      // RFC 4035 2.2: the delegation NS set is not signed; the DS at the cut is.
      emit(node.name, s, capOf(node.key, set.type), !(node.cut && set.type === TYPE.NS));
    }
    if (apex) {
      for (const t of [TYPE.DNSKEY, CDS, CDNSKEY]) {
        const s = apexDnssecSet(domain, t);
        if (s) emit(APEX, s, view.cap, true);
      }
      types.push(...apexDnssecTypes(domain));
    }
    // RFC 4034 4: the NSEC chain; the last name points back to the apex.
    const next = names[(i + 1) % names.length].name;
    const bitmap = typeBitmap([...types, ...NSEC_SELF]);
    const nsec: RRset = { type: TYPE.NSEC, compress: false, rrs: [{ ttl: negTtl, parts: [next, bitmap], maxLength: 265 + 255 + bitmap.length }] };
    emit(node.name, nsec, negTtl, false);
    signOne(node.name, nsec, negTtl, Buffer.from(bitmap).toString('latin1') + '\u0000' + next.keys.join('.') + '\u0000' + negTtl);
  }
  // Glue (below cuts): transferred as it is, unsigned and outside the chain.
  for (const node of zone.nodes.values()) {
    if (!occluded(node)) continue;
    for (const set of node.rrsets.values()) emit(node.name, set, capOf(node.key, set.type), false);
  }
  out.push(soa);
  return out;
}
