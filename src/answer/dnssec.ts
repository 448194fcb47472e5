// The DNSSEC stage of an answer, for a query with DO to a signed domain (RFC 4035 3.1): an RRSIG
// after every authoritative RRset of the answer and authority sections, the DS (or the proof that
// there is none) of a referral, and RFC 9824 compact denial: one NSEC at the denied name, made for
// this answer and signed (RFC 4470 minimally covering NSEC). Pure; the clock comes in.
import { RCODE, TYPE } from '../dns/constants.js';
import { SignatureCache, canonicalWire, type Rrsig } from '../dnssec/sign.js';
import { typeBitmap, successor, successorAfterSubtree, predecessor, NXNAME, NSEC_SELF } from '../dnssec/nsec.js';
import type { SigningKey } from '../dnssec/keys.js';
import type { Domain } from '../snapshot/domain.js';
import { compileName, type CompiledName, type RRset, type ZoneNode } from '../snapshot/zone.js';
import { apexDnssecTypes } from './dnssec-records.js';
import { negativeSoa } from './negative.js';
import { QNAME, type Answer, type Entry, type Owner } from './resolve.js';

const SIGNER = compileName([], true); // the apex: every signature here is by the domain's key

export interface SignContext {
  readonly cache: SignatureCache;
  readonly nowSec: number;
  /** The query name as sent (wire labels, absolute). */
  readonly qnameLabels: readonly string[];
  /** Compact Answers OK (RFC 9824 3): give NXDOMAIN back. */
  readonly co: boolean;
}

/** The key that signs now (a CSK in state active), if any. */
export function activeKey(domain: Domain | undefined): SigningKey | undefined {
  return domain?.dnssec?.keys.find((k) => k.state === 'active');
}

function rrsigSet(sig: Rrsig): RRset {
  const parts = [sig.fixed, SIGNER, sig.signature];
  return { type: TYPE.RRSIG, compress: false, rrs: [{ ttl: sig.originalTtl, parts, maxLength: 265 + 18 + 255 + sig.signature.length }] };
}

/** Canonical wire form of an entry's owner name. */
function ownerWire(owner: Owner, domain: Domain, c: SignContext): Buffer {
  return owner === QNAME ? canonicalWire(c.qnameLabels) : canonicalWire(owner.labels, owner.relative ? domain.labels : []);
}

function isWildcard(node: ZoneNode | undefined): boolean {
  return node !== undefined && node.name.keys[0] === '*';
}

/** Adds the signatures and proofs; returns when the earliest of them is due for renewal (Unix
 *  seconds; Infinity when nothing was signed), so that a cached copy is not served past it. Throws
 *  when a signature cannot be made (the caller answers SERVFAIL with an Extended DNS Error). */
export function signAnswer(ans: Answer, c: SignContext): number {
  const domain = ans.domain;
  const key = activeKey(domain);
  let renew = Infinity;
  if (!domain || !key) return renew;
  const sign = (e: Entry, contentKey?: string): Entry => {
    // RFC 4035 5.3.4: a wildcard expansion is signed by the wildcard, whose name fixes the labels.
    const name = e.source && isWildcard(e.source) ? canonicalWire(e.source.name.labels, domain.labels) : ownerWire(e.owner, domain, c);
    const sig = c.cache.get(e.set, name, domain.labels, key, c.nowSec, contentKey);
    if (sig.renewAt < renew) renew = sig.renewAt;
    return { owner: e.owner, set: rrsigSet(sig), ttl: e.ttl, cap: e.cap };
  };
  const nsec = (owner: Owner, next: readonly string[], types: number[], like: Entry | undefined): Entry[] => {
    const bitmap = typeBitmap([...types, ...NSEC_SELF]);
    const nextName: CompiledName = compileName(next, true);
    const ttl = like ? like.ttl ?? like.set.rrs[0]?.ttl ?? 0 : 0;
    const set: RRset = { type: TYPE.NSEC, compress: false, rrs: [{ ttl, parts: [nextName, bitmap], maxLength: 265 + 255 + bitmap.length }] };
    const e: Entry = { owner, set, cap: like?.cap };
    const content = Buffer.from(bitmap).toString('latin1') + '\u0000' + next.join('.') + '\u0000' + ttl;
    return [e, sign(e, content)];
  };

  const answer: Entry[] = [];
  for (const e of ans.answer) {
    answer.push(e);
    if (!e.synthesized) answer.push(sign(e));
  }
  const authority: Entry[] = [];
  const soa = ans.authority.find((e) => e.set.type === TYPE.SOA);
  for (const e of ans.authority) {
    authority.push(e);
    // RFC 4035 2.2: delegation NS (and glue) are not authoritative data, never signed.
    if (ans.cut && e.set.type === TYPE.NS) continue;
    authority.push(sign(e));
  }
  // RFC 4035 5.3.4: an answer from a wildcard needs the proof that the name itself does not
  // exist: an NSEC covering it (owner just before, next just after).
  for (const e of ans.answer) {
    if (e.synthesized || !isWildcard(e.source)) continue;
    const labels = e.owner === QNAME ? c.qnameLabels.slice(0, c.qnameLabels.length - domain.labels.length) : e.owner.labels;
    const before = predecessor(labels, apexOctets(domain));
    authority.push(...nsec(compileName(before, true), successorAfterSubtree(labels), [], e));
  }
  if (ans.cut) {
    const cut = ans.cut;
    const ds = cut.rrsets.get(TYPE.DS);
    if (ds) {
      // RFC 4035 3.1.4: a referral to a signed child carries the signed DS RRset.
      const e: Entry = { owner: cut.name, set: ds };
      authority.push(e, sign(e));
    } else {
      // RFC 4035 3.1.4.1 / 5.2: an insecure delegation, proven by an NSEC at the cut with NS and no DS.
      authority.push(...nsec(cut.name, successor(cut.name.labels), [TYPE.NS], negativeSoa(domain.soa)));
    }
  }
  const d = ans.denial;
  if (d) {
    // RFC 9824 3: NODATA-shaped proof at the name; a name that does not exist says so with NXNAME.
    const types = d.nx ? [NXNAME] : typesAt(d.node, domain, d.labels.length === 0);
    authority.push(...nsec(d.owner, successor(d.labels), types, soa));
    if (d.nx && !c.co) ans.rcode = RCODE.NOERROR;
  }
  ans.answer = answer;
  ans.authority = authority;
  return renew;
}

/** The types an NSEC at a name lists: its RRsets; at a cut only NS and DS (the rest is the child's,
 *  RFC 4035 2.3); at the apex also what the keys add. */
function typesAt(node: ZoneNode | undefined, domain: Domain, apex: boolean): number[] {
  if (!node) return apex ? apexDnssecTypes(domain) : [];
  const types = [...node.rrsets.keys()];
  if (node.cut) return types.filter((t) => t === TYPE.NS || t === TYPE.DS);
  return apex ? [...types, ...apexDnssecTypes(domain)] : types;
}

function apexOctets(domain: Domain): number {
  let n = 0;
  for (const l of domain.labels) n += l.length + 1;
  return n;
}
