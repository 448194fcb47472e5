// TSIG (RFC 8945): finding the TSIG record of a message, computing and checking its MAC, and
// signing messages, for one message or a stream of them (multi-message AXFR, RFC 8945 5.3.1).
// RFC 8945 6 lists HMAC-MD5 (HMAC-MD5.SIG-ALG.REG.INT), HMAC-SHA1, -SHA224, -SHA256, -SHA384 and
// -SHA512; all are verified and signed. The legacy ones stay because RFC 2136 clients default to
// them (certbot-dns-rfc2136 and cert-manager to HMAC-MD5, lego to HMAC-SHA1).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { asciiLower, nameKey, nameToText, splitName } from './name.js';
import { readWireName } from './rdata.js';
import { skipName } from './query.js';

export const TYPE_TSIG = 250;
const CLASS_ANY = 255;

/** TSIG error field values (RFC 8945 3; IANA "DNS RCODEs"). */
export const TSIG_ERROR = { NOERROR: 0, BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;

export type TsigAlgorithm = 'hmac-md5' | 'hmac-sha1' | 'hmac-sha224' | 'hmac-sha256' | 'hmac-sha384' | 'hmac-sha512';
export const TSIG_ALGORITHMS: readonly TsigAlgorithm[] = ['hmac-md5', 'hmac-sha1', 'hmac-sha224', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'];
const HASH: Record<TsigAlgorithm, { hash: string; size: number; wire: string }> = {
  // RFC 8945 6: the MD5 algorithm keeps its RFC 2845 name.
  'hmac-md5': { hash: 'md5', size: 16, wire: 'hmac-md5.sig-alg.reg.int' },
  'hmac-sha1': { hash: 'sha1', size: 20, wire: 'hmac-sha1' },
  'hmac-sha224': { hash: 'sha224', size: 28, wire: 'hmac-sha224' },
  'hmac-sha256': { hash: 'sha256', size: 32, wire: 'hmac-sha256' },
  'hmac-sha384': { hash: 'sha384', size: 48, wire: 'hmac-sha384' },
  'hmac-sha512': { hash: 'sha512', size: 64, wire: 'hmac-sha512' },
};
const BY_WIRE = new Map<string, TsigAlgorithm>(TSIG_ALGORITHMS.map((a) => [HASH[a].wire, a]));

/** Our name of the algorithm a TSIG record names ("hmac-md5.sig-alg.reg.int" -> "hmac-md5"). */
export function algorithmOf(wireName: string): TsigAlgorithm | undefined {
  return BY_WIRE.get(wireName);
}

/** The algorithm's name as TSIG records carry it, without the trailing dot. */
const wireAlgorithm = (a: string): string => HASH[a as TsigAlgorithm]?.wire ?? a;

/** RFC 8945 10: 300 seconds is the recommended fudge. */
export const DEFAULT_FUDGE = 300;

export interface TsigKey {
  /** Absolute lower-case name with the trailing dot. */
  readonly name: string;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Buffer;
}

/** A parsed TSIG record. */
export interface TsigRecord {
  /** Offset of the TSIG RR in the message (everything before it is what was signed). */
  readonly start: number;
  /** Lower-case key, for finding the key. */
  readonly keyName: string;
  /** The key name exactly as the client wrote it: a response must echo it byte for byte, because
   *  miekg/dns finds the secret by the exact string (RFC 8945 5.3: the same key). */
  readonly keyNameAsSent: string;
  /** Algorithm name as text, lower-case, without the trailing dot ("hmac-sha256"). */
  readonly algorithm: string;
  readonly timeSigned: number;
  readonly fudge: number;
  readonly mac: Buffer;
  readonly originalId: number;
  readonly error: number;
  readonly other: Buffer;
}

/** Canonical wire form of a name (RFC 4034 6.2: lower case, uncompressed), as the MAC covers it. */
export function canonicalName(text: string): Buffer {
  const labels = splitName(text === '.' ? '.' : text.endsWith('.') ? text : text + '.').labels;
  const out: number[] = [];
  for (const l of labels) {
    const k = asciiLower(l);
    out.push(k.length);
    for (let i = 0; i < k.length; i++) out.push(k.charCodeAt(i));
  }
  out.push(0);
  return Buffer.from(out);
}

/** The TSIG record of a message: undefined when there is none; 'formerr' when it is malformed or
 *  not the last record of the additional section (RFC 8945 5.1). */
export function findTsig(msg: Uint8Array): TsigRecord | undefined | 'formerr' {
  if (msg.length < 12) return 'formerr';
  const qd = (msg[4] << 8) | msg[5];
  const an = (msg[6] << 8) | msg[7];
  const ns = (msg[8] << 8) | msg[9];
  const ar = (msg[10] << 8) | msg[11];
  let p = 12;
  for (let i = 0; i < qd; i++) {
    p = skipName(msg, p);
    if (p < 0 || p + 4 > msg.length) return 'formerr';
    p += 4;
  }
  const total = an + ns + ar;
  for (let i = 0; i < total; i++) {
    const start = p;
    p = skipName(msg, p);
    if (p < 0 || p + 10 > msg.length) return 'formerr';
    const type = (msg[p] << 8) | msg[p + 1];
    const rdlen = (msg[p + 8] << 8) | msg[p + 9];
    const rdata = p + 10;
    p = rdata + rdlen;
    if (p > msg.length) return 'formerr';
    if (type !== TYPE_TSIG) continue;
    if (i !== total - 1 || i < an + ns) return 'formerr';
    try {
      const key = readWireName(msg, start, rdata);
      const alg = readWireName(msg, rdata, p);
      let q = alg.next;
      if (q + 10 > p) return 'formerr';
      const timeSigned = (msg[q] * 2 ** 40) + (msg[q + 1] * 2 ** 32) + ((msg[q + 2] << 24) >>> 0) + ((msg[q + 3] << 16) | (msg[q + 4] << 8) | msg[q + 5]);
      const fudge = (msg[q + 6] << 8) | msg[q + 7];
      const macSize = (msg[q + 8] << 8) | msg[q + 9];
      q += 10;
      if (q + macSize + 6 > p) return 'formerr';
      const mac = Buffer.from(msg.subarray(q, q + macSize));
      q += macSize;
      const originalId = (msg[q] << 8) | msg[q + 1];
      const error = (msg[q + 2] << 8) | msg[q + 3];
      const otherLen = (msg[q + 4] << 8) | msg[q + 5];
      q += 6;
      if (q + otherLen !== p) return 'formerr';
      const algText = nameKey(alg.name.labels);
      return {
        start, keyName: nameKey(key.name.labels), keyNameAsSent: nameToText(key.name.labels), algorithm: algText.replace(/\.$/, ''), timeSigned, fudge, mac,
        originalId, error, other: Buffer.from(msg.subarray(q, q + otherLen)),
      };
    } catch {
      return 'formerr';
    }
  }
  return undefined;
}

function u48(n: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(Math.floor(n), 0, 6);
  return b;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n & 0xffff, 0);
  return b;
}

interface Variables { keyName: string; algorithm: string; timeSigned: number; fudge: number; error: number; other: Buffer }

/** Wire form of a name as given, case kept (the TSIG owner echoed to the client). */
function wireName(text: string): Buffer {
  const labels = splitName(text === '.' ? '.' : text.endsWith('.') ? text : text + '.').labels;
  const out: number[] = [];
  for (const l of labels) {
    out.push(l.length);
    for (let i = 0; i < l.length; i++) out.push(l.charCodeAt(i));
  }
  out.push(0);
  return Buffer.from(out);
}

/** RFC 8945 4.3.3: the TSIG variables the MAC covers. */
function variables(v: Variables): Buffer {
  return Buffer.concat([
    canonicalName(v.keyName), u16(CLASS_ANY), Buffer.alloc(4), // class ANY, TTL 0
    canonicalName(wireAlgorithm(v.algorithm) + '.'), u48(v.timeSigned), u16(v.fudge), u16(v.error), u16(v.other.length), v.other,
  ]);
}

/** RFC 8945 4.3.1 / 5.3.1: what a MAC covers. `prior`: the request's MAC (a response) or the
 *  previous message's MAC (a later message of a stream); `timersOnly`: later messages of a stream
 *  cover the time and fudge only (5.3.1). */
function computeMac(key: TsigKey, message: Uint8Array, v: Variables, prior: Buffer | undefined, timersOnly: boolean): Buffer {
  const h = createHmac(HASH[key.algorithm].hash, key.secret);
  if (prior) { h.update(u16(prior.length)); h.update(prior); }
  h.update(message);
  h.update(timersOnly ? Buffer.concat([u48(v.timeSigned), u16(v.fudge)]) : variables(v));
  return h.digest();
}

function tsigRecord(v: Variables, mac: Buffer, originalId: number, owner: string): Buffer {
  const rdata = Buffer.concat([
    canonicalName(wireAlgorithm(v.algorithm) + '.'), u48(v.timeSigned), u16(v.fudge), u16(mac.length), mac,
    u16(originalId), u16(v.error), u16(v.other.length), v.other,
  ]);
  return Buffer.concat([wireName(owner), u16(TYPE_TSIG), u16(CLASS_ANY), Buffer.alloc(4), u16(rdata.length), rdata]);
}

export interface SignOptions {
  /** Time signed, Unix seconds. */
  now: number;
  fudge?: number;
  /** The request MAC (signing a response) or the previous message's MAC (a later stream message). */
  prior?: Buffer;
  /** A later message of a multi-message response (RFC 8945 5.3.1). */
  timersOnly?: boolean;
  error?: number;
  other?: Buffer;
  /** BADKEY/BADSIG answers carry an empty MAC (RFC 8945 5.3.2). */
  unsigned?: boolean;
  /** The key name as the request wrote it (TsigRecord.keyNameAsSent), echoed as the owner. */
  ownerAsSent?: string;
}

/** Appends a TSIG record to `message` (whose ID is the original ID) and returns the signed message
 *  and its MAC. */
export function sign(message: Uint8Array, key: Pick<TsigKey, 'name' | 'algorithm'> & { secret?: Buffer }, o: SignOptions): { message: Buffer; mac: Buffer } {
  const v: Variables = {
    keyName: key.name, algorithm: key.algorithm, timeSigned: Math.floor(o.now), fudge: o.fudge ?? DEFAULT_FUDGE,
    error: o.error ?? 0, other: o.other ?? Buffer.alloc(0),
  };
  const mac = o.unsigned || !key.secret ? Buffer.alloc(0)
    : computeMac(key as TsigKey, message, v, o.prior, o.timersOnly ?? false);
  const out = Buffer.concat([message, tsigRecord(v, mac, (message[0] << 8) | message[1], o.ownerAsSent ?? key.name)]);
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  return { message: out, mac };
}

/** The message as it was before signing: TSIG removed, ARCOUNT one less, the original ID back
 *  (RFC 8945 4.3.1, 5.4.1). */
export function unsignedPart(msg: Uint8Array, t: TsigRecord): Buffer {
  const m = Buffer.from(msg.subarray(0, t.start));
  m.writeUInt16BE(t.originalId, 0);
  m.writeUInt16BE(m.readUInt16BE(10) - 1, 10);
  return m;
}

export type VerifyResult =
  | { ok: true }
  /** `error`: the TSIG error to answer with; 'formerr' for a MAC size out of bounds. */
  | { ok: false; error: number | 'formerr' };

export interface VerifyOptions {
  /** Unix seconds, our clock. */
  now: number;
  /** As in SignOptions. */
  prior?: Buffer;
  timersOnly?: boolean;
  /** Unsigned messages of a stream since the last signed one, before this one (RFC 8945 5.3.1). */
  before?: readonly Uint8Array[];
}

/** RFC 8945 5.2: key, then MAC, then time. */
export function verify(msg: Uint8Array, t: TsigRecord, key: TsigKey | undefined, o: VerifyOptions): VerifyResult {
  // 5.2.1: an unknown key, or a known one with another algorithm, is BADKEY.
  if (!key || key.name !== t.keyName || HASH[key.algorithm].wire !== t.algorithm) return { ok: false, error: TSIG_ERROR.BADKEY };
  // 5.2.2.1: a MAC longer than the hash, or shorter than max(10, half the hash), is FORMERR.
  const full = HASH[key.algorithm].size;
  if (t.mac.length > full || t.mac.length < Math.max(10, full / 2)) return { ok: false, error: 'formerr' };
  const signed = Buffer.concat([...(o.before ?? []), unsignedPart(msg, t)]);
  const expect = computeMac(key, signed, t, o.prior, o.timersOnly ?? false).subarray(0, t.mac.length);
  if (!timingSafeEqual(expect, t.mac)) return { ok: false, error: TSIG_ERROR.BADSIG };
  // 5.2.3: outside the fudge window, after a good MAC, is BADTIME.
  if (Math.abs(o.now - t.timeSigned) > t.fudge) return { ok: false, error: TSIG_ERROR.BADTIME };
  return { ok: true };
}

/** Signs every message of a multi-message response: the first over the request MAC and all the
 *  variables, each later one over the previous MAC and the timers (RFC 8945 5.3.1). */
export class TsigSigner {
  private prior: Buffer;
  private first = true;
  constructor(private readonly key: TsigKey, requestMac: Buffer, private readonly now: () => number, private readonly ownerAsSent?: string) {
    this.prior = requestMac;
  }

  sign(message: Uint8Array): Buffer {
    const s = sign(message, this.key, { now: this.now(), prior: this.prior, timersOnly: !this.first, ownerAsSent: this.ownerAsSent });
    this.first = false;
    this.prior = s.mac;
    return s.message;
  }
}

/** Checks every message of a multi-message response as a client does (RFC 8945 5.3.1): the first
 *  must be signed, later ones may be unsigned (at most 99 in a row) and are covered by the next
 *  signed one. Returns false on the first failure. */
export class TsigStreamVerifier {
  private prior: Buffer;
  private first = true;
  private unsigned: Uint8Array[] = [];
  constructor(private readonly key: TsigKey, requestMac: Buffer, private readonly now: () => number) {
    this.prior = requestMac;
  }

  /** True when the message is acceptable so far. */
  next(msg: Uint8Array): boolean {
    const t = findTsig(msg);
    if (t === 'formerr') return false;
    if (!t) {
      if (this.first || this.unsigned.length >= 99) return false;
      this.unsigned.push(msg);
      return true;
    }
    const r = verify(msg, t, this.key, { now: this.now(), prior: this.prior, timersOnly: !this.first, before: this.unsigned });
    if (!r.ok) return false;
    this.first = false;
    this.unsigned = [];
    this.prior = t.mac;
    return true;
  }

  /** The last message must have been signed. */
  complete(): boolean { return !this.first && this.unsigned.length === 0; }
}

/** Presentation of a key name as stored: absolute, lower case, with the dot. */
export function keyNameKey(text: string): string {
  return nameKey(splitName(text.endsWith('.') ? text : text + '.').labels);
}
