// Rdata per type: presentation text <-> parts (wire octets and names), and wire -> parts. One field
// table per type drives all three directions, so they cannot disagree. Names stay separate parts:
// the message encoder writes them (compressing where RFC 3597 4 allows) and completes names
// relative to the zone apex with the domain's apex.
import { TYPE } from './constants.js';
import { labelToText, nameToText, NameError } from './name.js';
import { RdataError } from './rdata-error.js';
import {
  tokenize, unescape, characterString, quote, uint, duration, ipv4, ipv6, ipv6Text, hexBytes, base64Bytes, hexText,
  type Token,
} from './rdata-text.js';
import { parseSvcParams, formatSvcParams } from './svcb.js';

export { RdataError };

/** A name inside rdata. `relative`: relative to the zone apex (no labels = the apex, "@"). */
export interface RdataName { labels: string[]; relative: boolean }
export type RdataPart = Uint8Array | RdataName;
export type ResolveName = (text: string) => RdataName;

type Field =
  | 'u8' | 'u16' | 'u32' | 'timer' | 'name' | 'a' | 'aaaa' | 'string' | 'strings' | 'hex' | 'hex-or-dash'
  | 'b64' | 'caa-tag' | 'caa-value' | 'svc-params';

const FIELDS = new Map<number, Field[]>([
  [TYPE.A, ['a']],
  [TYPE.AAAA, ['aaaa']],
  [TYPE.NS, ['name']],
  [TYPE.CNAME, ['name']],
  [TYPE.PTR, ['name']],
  [TYPE.DNAME, ['name']],
  // RFC 1035 3.3.13: MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM.
  [TYPE.SOA, ['name', 'name', 'u32', 'timer', 'timer', 'timer', 'timer']],
  [TYPE.MX, ['u16', 'name']],
  [TYPE.TXT, ['strings']],
  [TYPE.SRV, ['u16', 'u16', 'u16', 'name']], // RFC 2782
  [TYPE.NAPTR, ['u16', 'u16', 'string', 'string', 'string', 'name']], // RFC 3403 4.1
  [TYPE.HINFO, ['string', 'string']],
  [TYPE.RP, ['name', 'name']], // RFC 1183 2.2
  [TYPE.CAA, ['u8', 'caa-tag', 'caa-value']], // RFC 8659 4.1
  [TYPE.TLSA, ['u8', 'u8', 'u8', 'hex']], // RFC 6698 2.1
  [TYPE.SSHFP, ['u8', 'u8', 'hex']], // RFC 4255 3.1
  [TYPE.DS, ['u16', 'u8', 'u8', 'hex']], // RFC 4034 5.1
  [TYPE.SVCB, ['u16', 'name', 'svc-params']], // RFC 9460 2.2
  [TYPE.HTTPS, ['u16', 'name', 'svc-params']],
]);

/** RFC 3597 4: only the RFC 1035 types may have names compressed when sending. */
const COMPRESSIBLE = new Set<number>([TYPE.NS, 3, 4, TYPE.CNAME, TYPE.SOA, 7, 8, 9, TYPE.PTR, 14, TYPE.MX]);

export function isCompressibleType(type: number): boolean {
  return COMPRESSIBLE.has(type);
}

const TYPE_LABELS = new Map<number, string>(Object.entries(TYPE).reverse().map(([k, v]) => [v, k])); // first name wins

/** Used in every parse (for error messages): a lookup, not a walk over TYPE (5 % of a build). */
function typeLabel(type: number): string {
  return TYPE_LABELS.get(type) ?? `TYPE${type}`;
}

/** Collects parts, merging adjacent octets. */
class PartsBuilder {
  readonly parts: RdataPart[] = [];
  private pending: number[] = [];
  octets(b: ArrayLike<number>): void { for (let i = 0; i < b.length; i++) this.pending.push(b[i]); }
  u8(v: number): void { this.pending.push(v); }
  u16(v: number): void { this.pending.push(v >> 8, v & 0xff); }
  u32(v: number): void { this.pending.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff); }
  name(n: RdataName): void { this.flush(); this.parts.push(n); }
  done(): RdataPart[] { this.flush(); return this.parts; }
  private flush(): void {
    if (this.pending.length) { this.parts.push(Uint8Array.from(this.pending)); this.pending = []; }
  }
}

export function parseRdata(type: number, text: string, resolve: ResolveName): RdataPart[] {
  const what = typeLabel(type);
  const toks = tokenize(text.trim(), type === TYPE.SVCB || type === TYPE.HTTPS);
  if (toks.length > 0 && toks[0].text === '\\#' && !toks[0].quoted) return parseGeneric(type, toks, what, resolve);
  const fields = FIELDS.get(type);
  if (!fields) throw new RdataError(`${what}: no presentation format known for this type; use the RFC 3597 form \\# <length> <hex>`);
  const b = new PartsBuilder();
  let i = 0;
  const next = (field: string): Token => {
    const t = toks[i++];
    if (!t) throw new RdataError(`${what}: missing ${field} (expected ${fields.length} fields)`);
    return t;
  };
  for (const f of fields) {
    switch (f) {
      case 'u8': b.u8(uint(next('number').text, 8, what)); break;
      case 'u16': b.u16(uint(next('number').text, 16, what)); break;
      case 'u32': b.u32(uint(next('number').text, 32, what)); break;
      case 'timer': b.u32(duration(next('number').text, what)); break;
      case 'a': b.octets(ipv4(next('address').text, what)); break;
      case 'aaaa': b.octets(ipv6(next('address').text, what)); break;
      case 'name': {
        const t = next('name');
        try { b.name(resolve(t.text)); } catch (e) {
          if (e instanceof NameError) throw new RdataError(`${what}: ${e.message}`);
          throw e;
        }
        break;
      }
      case 'string': b.octets(characterString(next('string'), what)); break;
      case 'strings':
        if (i >= toks.length) throw new RdataError(`${what}: at least one character-string is needed`);
        while (i < toks.length) b.octets(characterString(toks[i++], what));
        break;
      case 'hex': case 'hex-or-dash': {
        const rest = toks.slice(i).map((t) => t.text).join('');
        i = toks.length;
        if (rest === '') throw new RdataError(`${what}: missing hex data`);
        b.octets(hexBytes(rest, what));
        break;
      }
      case 'b64': b.octets(base64Bytes(toks.slice(i).map((t) => t.text).join(''), what)); i = toks.length; break;
      case 'caa-tag': {
        const tag = next('tag').text;
        if (!/^[A-Za-z0-9]{1,15}$/.test(tag)) throw new RdataError(`CAA: tag "${tag}" must be 1-15 letters and digits (RFC 8659 4.1)`);
        b.u8(tag.length);
        b.octets(Buffer.from(tag, 'latin1'));
        break;
      }
      case 'caa-value': {
        const v = unescape(toks.slice(i).map((t) => t.text).join(' '));
        if (toks.length - i < 1) throw new RdataError('CAA: missing value');
        i = toks.length;
        b.octets(Buffer.from(v, 'latin1'));
        break;
      }
      case 'svc-params': {
        const params = parseSvcParams(toks.slice(i), what);
        i = toks.length;
        b.octets(params);
        break;
      }
    }
  }
  if (i < toks.length) throw new RdataError(`${what}: unexpected "${toks[i].text}" after the last field`);
  const parts = b.done();
  if (type === TYPE.SVCB || type === TYPE.HTTPS) checkSvcbMode(parts, what);
  checkLength(parts, what);
  return parts;
}

/** RFC 9460 2.4.2: AliasMode (priority 0) carries no SvcParams. */
function checkSvcbMode(parts: RdataPart[], what: string): void {
  const head = parts[0] as Uint8Array;
  const priority = (head[0] << 8) | head[1];
  const params = parts[2] as Uint8Array | undefined;
  if (priority === 0 && params && params.length > 0) throw new RdataError(`${what}: AliasMode (priority 0) takes no SvcParams (RFC 9460 2.4.2)`);
}

function checkLength(parts: RdataPart[], what: string): void {
  let n = 0;
  for (const p of parts) n += p instanceof Uint8Array ? p.length : 255;
  if (n > 65535 + 255) throw new RdataError(`${what}: rdata over 65535 octets`);
}

/** RFC 3597 5: \# <length> <hex>; for known types the octets are decoded to check them. */
function parseGeneric(type: number, toks: Token[], what: string, resolve: ResolveName): RdataPart[] {
  const len = toks[1] ? uint(toks[1].text, 16, what) : -1;
  if (len < 0) throw new RdataError(`${what}: \\# needs a length`);
  const data = len === 0 ? new Uint8Array(0) : hexBytes(toks.slice(2).map((t) => t.text).join(''), what);
  if (data.length !== len) throw new RdataError(`${what}: \\# says ${len} octets but ${data.length} follow`);
  if (FIELDS.has(type)) {
    // Names in a known type's generic form are absolute (no compression in it); they are then read
    // like the same name in presentation form, so the record is stored the same in either form.
    return decodeRdata(type, data, 0, data.length).map((p) => (p instanceof Uint8Array ? p : resolve(nameToText(p.labels))));
  }
  return [data];
}

/** Reads fields back from parts. */
class PartsReader {
  private i = 0;
  private off = 0;
  constructor(private readonly parts: readonly RdataPart[], private readonly what: string) {}
  private cur(): Uint8Array {
    const p = this.parts[this.i];
    if (!(p instanceof Uint8Array)) throw new RdataError(`${this.what}: malformed rdata`);
    return p;
  }
  private advance(): void { if (this.i < this.parts.length && this.parts[this.i] instanceof Uint8Array && this.off >= (this.parts[this.i] as Uint8Array).length) { this.i++; this.off = 0; } }
  u8(): number { this.advance(); const p = this.cur(); if (this.off >= p.length) throw new RdataError(`${this.what}: rdata too short`); return p[this.off++]; }
  u16(): number { return (this.u8() << 8) | this.u8(); }
  u32(): number { return ((this.u16() << 16) >>> 0) + this.u16(); }
  octets(n: number): Uint8Array { const out = new Uint8Array(n); for (let k = 0; k < n; k++) out[k] = this.u8(); return out; }
  rest(): Uint8Array {
    const out: number[] = [];
    for (;;) {
      this.advance();
      if (this.i >= this.parts.length || !(this.parts[this.i] instanceof Uint8Array)) break;
      const p = this.parts[this.i] as Uint8Array;
      while (this.off < p.length) out.push(p[this.off++]);
    }
    return Uint8Array.from(out);
  }
  name(): RdataName {
    this.advance();
    const p = this.parts[this.i];
    if (p === undefined || p instanceof Uint8Array) throw new RdataError(`${this.what}: expected a name`);
    this.i++;
    this.off = 0;
    return p;
  }
  atEnd(): boolean { this.advance(); return this.i >= this.parts.length; }
}

export function nameText(n: RdataName): string {
  if (n.relative) return n.labels.length ? n.labels.map(labelToText).join('.') : '@';
  return n.labels.length ? n.labels.map(labelToText).join('.') + '.' : '.';
}

export function formatRdata(type: number, parts: readonly RdataPart[]): string {
  const what = typeLabel(type);
  const fields = FIELDS.get(type);
  if (!fields) return genericText(parts);
  const r = new PartsReader(parts, what);
  const out: string[] = [];
  for (const f of fields) {
    switch (f) {
      case 'u8': out.push(String(r.u8())); break;
      case 'u16': out.push(String(r.u16())); break;
      case 'u32': case 'timer': out.push(String(r.u32())); break;
      case 'a': out.push(Array.from(r.octets(4)).join('.')); break;
      case 'aaaa': out.push(ipv6Text(r.octets(16))); break;
      case 'name': out.push(nameText(r.name())); break;
      case 'string': { const n = r.u8(); out.push(quote(r.octets(n))); break; }
      case 'strings': while (!r.atEnd()) { const n = r.u8(); out.push(quote(r.octets(n))); } break;
      case 'hex': case 'hex-or-dash': out.push(hexText(r.rest())); break;
      case 'b64': out.push(Buffer.from(r.rest()).toString('base64')); break;
      case 'caa-tag': { const n = r.u8(); out.push(Buffer.from(r.octets(n)).toString('latin1')); break; }
      case 'caa-value': out.push(quote(r.rest())); break;
      case 'svc-params': { const s = formatSvcParams(r.rest(), what); if (s) out.push(s); break; }
    }
  }
  return out.join(' ');
}

function genericText(parts: readonly RdataPart[]): string {
  const bytes: number[] = [];
  for (const p of parts) {
    if (!(p instanceof Uint8Array)) throw new RdataError('a name inside rdata of an unknown type');
    for (const x of p) bytes.push(x);
  }
  return bytes.length ? `\\# ${bytes.length} ${hexText(Uint8Array.from(bytes))}` : '\\# 0';
}

/** Decodes a (possibly compressed) name from a message; pointers must point backwards. */
export function readWireName(msg: Uint8Array, off: number, end: number): { name: RdataName; next: number } {
  const labels: string[] = [];
  let p = off;
  let next = -1;
  let wire = 1;
  for (let hops = 0; ; ) {
    if (p >= msg.length || (next < 0 && p >= end)) throw new RdataError('name runs past the rdata');
    const len = msg[p];
    if (len === 0) { if (next < 0) next = p + 1; break; }
    if ((len & 0xc0) === 0xc0) {
      if (p + 1 >= msg.length) throw new RdataError('truncated compression pointer');
      const target = ((len & 0x3f) << 8) | msg[p + 1];
      if (target >= p || ++hops > 64) throw new RdataError('bad compression pointer');
      if (next < 0) next = p + 2;
      p = target;
      continue;
    }
    if (len > 63) throw new RdataError('bad label type');
    if (p + 1 + len > msg.length) throw new RdataError('label runs past the message');
    wire += len + 1;
    if (wire > 255) throw new RdataError('name over 255 octets');
    let l = '';
    for (let k = p + 1; k <= p + len; k++) l += String.fromCharCode(msg[k]);
    labels.push(l);
    p += 1 + len;
  }
  if (next > end) throw new RdataError('name runs past the rdata');
  return { name: { labels, relative: false }, next };
}

export function decodeRdata(type: number, msg: Uint8Array, offset: number, length: number): RdataPart[] {
  const what = typeLabel(type);
  const end = offset + length;
  if (end > msg.length) throw new RdataError(`${what}: rdata runs past the message`);
  const fields = FIELDS.get(type);
  if (!fields) return [msg.slice(offset, end)];
  const b = new PartsBuilder();
  let p = offset;
  const need = (n: number) => { if (p + n > end) throw new RdataError(`${what}: rdata too short`); };
  for (const f of fields) {
    switch (f) {
      case 'u8': need(1); b.u8(msg[p]); p += 1; break;
      case 'u16': need(2); b.octets(msg.subarray(p, p + 2)); p += 2; break;
      case 'u32': case 'timer': need(4); b.octets(msg.subarray(p, p + 4)); p += 4; break;
      case 'a': need(4); b.octets(msg.subarray(p, p + 4)); p += 4; break;
      case 'aaaa': need(16); b.octets(msg.subarray(p, p + 16)); p += 16; break;
      case 'name': { const r = readWireName(msg, p, end); b.name(r.name); p = r.next; break; }
      case 'string': { need(1); const n = msg[p]; need(1 + n); b.octets(msg.subarray(p, p + 1 + n)); p += 1 + n; break; }
      case 'strings':
        if (p >= end) throw new RdataError(`${what}: empty`);
        while (p < end) { const n = msg[p]; need(1 + n); b.octets(msg.subarray(p, p + 1 + n)); p += 1 + n; }
        break;
      case 'caa-tag': { need(1); const n = msg[p]; need(1 + n); b.octets(msg.subarray(p, p + 1 + n)); p += 1 + n; break; }
      case 'hex': case 'hex-or-dash': case 'b64': case 'caa-value': case 'svc-params':
        b.octets(msg.subarray(p, end)); p = end; break;
    }
  }
  if (p !== end) throw new RdataError(`${what}: ${end - p} octets left over`);
  return b.done();
}

export function rdataNames(parts: readonly RdataPart[]): RdataName[] {
  return parts.filter((p): p is RdataName => !(p instanceof Uint8Array));
}

export function rdataWireLength(parts: readonly RdataPart[], apexWireLength: number): number {
  let n = 0;
  for (const p of parts) {
    if (p instanceof Uint8Array) { n += p.length; continue; }
    let l = 0;
    for (const x of p.labels) l += x.length + 1;
    n += p.relative ? l + apexWireLength : l + 1;
  }
  return n;
}
