// RRSIG generation (RFC 4034 3, RFC 4035 2.2) over the canonical form of an RRset (RFC 4034 6),
// with a cache of signatures per RRset version: zone data is immutable and interned, so an RRset
// object stands for one version of its records, and a hit costs no cryptography. Pure: the clock
// comes in as an argument; node:crypto signs (algorithm 13 in IEEE P1363 form, RFC 6605 4; 15,
// RFC 8080 4).
import { sign as cryptoSign } from 'node:crypto';
import { TYPE } from '../dns/constants.js';
import type { SigningKey } from './keys.js';

/** A name inside RDATA: wire labels (any case) and whether the apex follows. */
export interface RdataName { readonly labels: readonly string[]; readonly relative: boolean }
export type RdataPart = Uint8Array | RdataName;
export interface SignableRR { readonly ttl: number; readonly parts: readonly RdataPart[] }
export interface SignableSet { readonly type: number; readonly rrs: readonly SignableRR[] }

/** RFC 4034 6.2 item 3 (as amended by RFC 6840 5.1): types whose RDATA names are lower-cased. */
const DOWNCASE = new Set<number>([TYPE.NS, TYPE.CNAME, TYPE.SOA, TYPE.PTR, TYPE.MX, TYPE.RP, TYPE.SRV, TYPE.NAPTR, TYPE.DNAME, 3, 4, 7, 8, 9, 14, 18, 21, 24, 26, 30, 36]);

/** Signature validity (RFC 4035 2.2, RFC 6781 4.4.2): inception an hour back (clock skew),
 *  expiry a week ahead plus up to a day of jitter (so that signatures made together do not all
 *  expire together), renewed once less than three days remain. */
export const VALIDITY = { backdate: 3600, lifetime: 7 * 86400, jitter: 86400, renewBefore: 3 * 86400 } as const;

function lower(l: string): string {
  let out = '';
  for (let i = 0; i < l.length; i++) {
    const c = l.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : l[i];
  }
  return out;
}

/** Canonical wire form of a name from wire labels (RFC 4034 6.2: uncompressed, lower case). */
export function canonicalWire(labels: readonly string[], apex: readonly string[] = [], downcase = true): Buffer {
  let n = 1;
  for (const l of labels) n += l.length + 1;
  for (const l of apex) n += l.length + 1;
  const b = Buffer.allocUnsafe(n);
  let p = 0;
  for (const l of [...labels, ...apex]) {
    b[p++] = l.length;
    b.write(downcase ? lower(l) : l, p, 'latin1');
    p += l.length;
  }
  b[p] = 0;
  return b;
}

/** Number of labels for the RRSIG Labels field: the owner's, without the root and a leading "*"
 *  (RFC 4034 3.1.3). */
export function rrsigLabels(owner: Buffer): number {
  let n = 0;
  let first = true;
  for (let p = 0; owner[p] !== 0; p += owner[p] + 1) {
    if (!(first && owner[p] === 1 && owner[p + 1] === 0x2a)) n++;
    first = false;
  }
  return n;
}

function rdataWire(type: number, parts: readonly RdataPart[], apex: readonly string[]): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    if (p instanceof Uint8Array) out.push(Buffer.from(p.buffer, p.byteOffset, p.length));
    else out.push(canonicalWire(p.labels, p.relative ? apex : [], DOWNCASE.has(type)));
  }
  return Buffer.concat(out);
}

export interface Rrsig {
  /** RRSIG RDATA without the signer name and signature: type covered .. key tag (18 octets). */
  readonly fixed: Uint8Array;
  readonly signature: Uint8Array;
  readonly originalTtl: number;
  /** Unix seconds after which it is made again. */
  readonly renewAt: number;
  readonly keyId: number;
}

/** Signs one RRset as owned by `owner` (canonical wire) with each key. `apex`: wire labels of the
 *  signer (zone apex), which also completes relative names. */
export function signRRset(set: SignableSet, owner: Buffer, apex: readonly string[], key: SigningKey, nowSec: number, jitter: number): Rrsig {
  const originalTtl = set.rrs.length ? Math.min(...set.rrs.map((r) => r.ttl)) : 0;
  const inception = nowSec - VALIDITY.backdate;
  const expiration = nowSec + VALIDITY.lifetime + Math.floor(jitter * VALIDITY.jitter);
  const fixed = Buffer.alloc(18);
  fixed.writeUInt16BE(set.type, 0);
  fixed[2] = key.algorithm;
  fixed[3] = rrsigLabels(owner);
  fixed.writeUInt32BE(originalTtl >>> 0, 4);
  fixed.writeUInt32BE(expiration >>> 0, 8);
  fixed.writeUInt32BE(inception >>> 0, 12);
  fixed.writeUInt16BE(key.tag, 16);
  const signer = canonicalWire(apex);
  // RFC 4034 6.3: RRs in canonical order (by RDATA octets), duplicates once.
  const rdatas = set.rrs.map((r) => rdataWire(set.type, r.parts, apex)).sort(Buffer.compare)
    .filter((r, i, a) => i === 0 || !r.equals(a[i - 1]));
  const head = Buffer.alloc(10);
  head.writeUInt16BE(set.type, 0);
  head.writeUInt16BE(1, 2); // class IN
  head.writeUInt32BE(originalTtl >>> 0, 4);
  const chunks: Buffer[] = [fixed, signer];
  for (const r of rdatas) {
    const h = Buffer.from(head);
    h.writeUInt16BE(r.length, 8);
    chunks.push(owner, h, r);
  }
  const data = Buffer.concat(chunks);
  const signature = key.algorithm === 15
    ? cryptoSign(null, data, key.privateKey)
    : cryptoSign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return { fixed, signature, originalTtl, renewAt: expiration - VALIDITY.renewBefore, keyId: key.id };
}

/** Signatures by RRset object, then owner and key. RRsets made per answer (NSEC, synthesized
 *  records) go to a bounded map keyed by their content instead. */
export class SignatureCache {
  private readonly byObject = new WeakMap<object, Map<string, Rrsig>>();
  private readonly byContent = new Map<string, Rrsig>();
  signs = 0;
  hits = 0;

  constructor(private readonly maxContent = 50_000, private readonly random: () => number = Math.random) {}

  get(set: SignableSet, owner: Buffer, apex: readonly string[], key: SigningKey, nowSec: number, contentKey?: string): Rrsig {
    const k = owner.toString('latin1') + '\u0000' + key.id + '\u0000' + key.tag;
    let m: Map<string, Rrsig> | undefined;
    let ck: string | undefined;
    if (contentKey === undefined) {
      m = this.byObject.get(set);
      if (!m) this.byObject.set(set, (m = new Map()));
      const hit = m.get(k);
      if (hit && hit.renewAt > nowSec) { this.hits++; return hit; }
    } else {
      ck = k + '\u0000' + contentKey;
      const hit = this.byContent.get(ck);
      if (hit && hit.renewAt > nowSec) { this.hits++; return hit; }
    }
    this.signs++;
    const sig = signRRset(set, owner, apex, key, nowSec, this.random());
    if (m) m.set(k, sig);
    else {
      if (this.byContent.size >= this.maxContent) this.byContent.clear();
      this.byContent.set(ck!, sig);
    }
    return sig;
  }
}
