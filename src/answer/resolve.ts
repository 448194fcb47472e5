// The authoritative answer (RFC 1034 4.3.2, RFC 2308, RFC 4592, RFC 6672, RFC 8482) as a pure
// function of the snapshot, the question and the clock. The result lists RRsets by section; the
// encoder turns it into wire format, applying the PZC cap to every TTL.
import { RCODE, TYPE } from '../dns/constants.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Domain } from '../snapshot/domain.js';
import type { CompiledName, RRset, ZoneNode, CompiledZone } from '../snapshot/zone.js';
import { compileName } from '../snapshot/zone.js';
import { liveView, pendingCap } from '../pzc/policy.js';
import { lookup } from './lookup.js';
import { negativeSoa } from './negative.js';
import { addTargetAddresses } from './additional.js';
import { inDomain, nodeOf } from './in-domain.js';

// Kept importable from here (callers predate in-domain.ts).
export { inDomain, nodeOf };

/** The owner of an RRset in the response: the query name itself (written as a pointer to the
 *  question, so the client's case is kept) or a name from zone data. */
export const QNAME = 'qname' as const;
export type Owner = typeof QNAME | CompiledName;

export interface Entry {
  readonly owner: Owner;
  readonly set: RRset;
  /** TTL override (negative-caching SOA, RFC 2308 3; synthesized CNAME, RFC 6672 3.4). */
  readonly ttl?: number;
  /** Cap of an RRset-level PZC pending on this RRset (or on what a negative answer denies). */
  readonly cap?: number;
}

export interface Answer {
  rcode: number;
  aa: boolean;
  answer: Entry[];
  authority: Entry[];
  additional: Entry[];
  /** How many leading additional entries must fit or set TC: glue (RFC 9471 3). */
  requiredAdditional: number;
  /** The domain answered from; its apex completes relative names. */
  domain: Domain | undefined;
  /** Largest TTL allowed in this response (PZC), Infinity when none. */
  cap: number;
}

export interface Question {
  /** Query name, lower-case key labels, leftmost first. */
  readonly keys: readonly string[];
  /** Query name, wire labels as sent. */
  readonly labels: readonly string[];
  readonly qtype: number;
}

/** RFC 1034 4.3.2 step 3a: follow CNAMEs, but not forever (and never out of the domain). */
const MAX_CHAIN = 16;

export function refused(): Answer {
  return { rcode: RCODE.REFUSED, aa: false, answer: [], authority: [], additional: [], requiredAdditional: 0, domain: undefined, cap: Infinity };
}

export function resolve(snap: Snapshot, q: Question, nowMs: number): Answer {
  const domain = snap.findDomain(q.keys);
  if (!domain) return refused(); // not authoritative for any enclosing name
  const view = liveView(domain, nowMs);
  const zone = view.zone;
  const ans: Answer = { rcode: RCODE.NOERROR, aa: true, answer: [], authority: [], additional: [], requiredAdditional: 0, domain, cap: view.cap };
  // RFC 2308 3; a negative answer about a name or RRset with a change pending is capped too.
  const negative = (cap: number) => {
    const soa = negativeSoa(view.soa);
    if (soa) ans.authority.push(cap < Infinity ? { ...soa, cap } : soa);
  };

  let keys: readonly string[] = q.keys.slice(0, q.keys.length - domain.keys.length);
  let labels: readonly string[] = q.labels.slice(0, keys.length);
  let owner: Owner = QNAME;
  let seen: Set<string> | undefined; // names already followed: only CNAME/DNAME chains need it
  for (let hop = 0; hop < MAX_CHAIN; hop++) {
    const r = lookup(zone, keys, q.qtype, domain.delegationOnly);
    switch (r.kind) {
      case 'hit': {
        // The apex SOA carries the domain's serial, not the zone's: a shared zone serves each
        // domain with its own serial, bumped on every change that domain sees.
        const set = r.set.type === TYPE.SOA && r.key === '' && view.soa ? view.soa : r.set;
        ans.answer.push(capped({ owner, set }, pendingCap(zone, r.key, r.set.type, nowMs)));
        addTargetAddresses(ans, zone, domain, r.set);
        return ans;
      }
      case 'nodata':
        negative(pendingCap(zone, keys.join('.'), q.qtype, nowMs));
        return ans;
      case 'nxdomain':
        // RFC 6604 2.1: after a CNAME chain the RCODE describes the last name.
        ans.rcode = RCODE.NXDOMAIN;
        negative(pendingCap(zone, keys.join('.'), q.qtype, nowMs, true));
        return ans;
      case 'referral':
        referral(ans, zone, domain, r.cut);
        return ans;
      case 'cname': {
        const cap = Math.min(pendingCap(zone, r.key, TYPE.CNAME, nowMs), pendingCap(zone, r.key, q.qtype, nowMs));
        ans.answer.push(capped({ owner, set: r.set }, cap));
        const target = r.set.rrs[0].parts[0] as CompiledName;
        const next = inDomain(target, domain);
        (seen ??= new Set()).add(keys.join('.'));
        if (!next || seen.has(next.join('.'))) return ans; // out of the domain, or a loop: stop here
        keys = next;
        labels = target.labels.slice(0, next.length);
        owner = target;
        break;
      }
      case 'dname': {
        // RFC 6672 3.2: answer the DNAME and a CNAME synthesized from it, then follow that.
        ans.answer.push({ owner: r.node.name, set: r.set });
        const target = r.set.rrs[0].parts[0] as CompiledName;
        const synth = synthesize(labels.slice(0, r.depth), target);
        if (!synth) {
          ans.rcode = RCODE.YXDOMAIN; // RFC 6672 2.2: the substituted name would be too long
          return ans;
        }
        const cname: RRset = { type: TYPE.CNAME, compress: true, rrs: [{ ttl: r.set.rrs[0].ttl, parts: [synth], maxLength: 255 + 10 + 255 }] };
        ans.answer.push({ owner, set: cname });
        const next = inDomain(synth, domain);
        if (!next || seen?.has(next.join('.'))) return ans;
        (seen ??= new Set()).add(keys.join('.'));
        keys = next;
        labels = synth.labels.slice(0, next.length);
        owner = synth;
        break;
      }
    }
  }
  return ans;
}

function capped(e: Entry, cap: number): Entry {
  return cap < Infinity ? { ...e, cap } : e;
}

function synthesize(prefix: readonly string[], target: CompiledName): CompiledName | undefined {
  const labels = [...prefix, ...target.labels];
  let len = 1;
  for (const l of labels) len += l.length + 1;
  if (!target.relative && len > 255) return undefined;
  return compileName(labels, target.relative);
}

/** RFC 1034 4.3.2 step 3b: not authoritative below a cut; the NS set and its glue. */
function referral(ans: Answer, zone: CompiledZone, domain: Domain, cut: ZoneNode): void {
  if (ans.answer.length === 0) ans.aa = false;
  const ns = cut.rrsets.get(TYPE.NS)!;
  ans.authority.push({ owner: cut.name, set: ns });
  addTargetAddresses(ans, zone, domain, ns);
  ans.requiredAdditional = ans.additional.length;
}
