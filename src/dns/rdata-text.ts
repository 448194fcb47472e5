// Presentation-format helpers for rdata (RFC 1035 5.1): tokenizing with quotes and escapes,
// character-strings, numbers, addresses, hex and base64.
import { RdataError } from './rdata-error.js';

export interface Token { text: string; quoted: boolean }

/** Splits rdata text on whitespace; "..." is one token (quotes removed, escapes kept for decoding).
 *  `keyValues`: an SVCB SvcParam written key="value" (RFC 9460 2.1) is split into `key=` and the
 *  quoted value. */
export function tokenize(text: string, keyValues = false): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    if (c === '"') {
      let j = i + 1;
      let t = '';
      while (j < n && text[j] !== '"') {
        if (text[j] === '\\' && j + 1 < n) { t += text[j] + text[j + 1]; j += 2; continue; }
        t += text[j++];
      }
      if (j >= n) throw new RdataError('unterminated quoted string');
      out.push({ text: t, quoted: true });
      i = j + 1;
      continue;
    }
    let j = i;
    let t = '';
    while (j < n && !' \t\n\r'.includes(text[j])) {
      if (keyValues && text[j] === '"' && /^[A-Za-z0-9-]+=$/.test(t)) break;
      if (text[j] === '\\' && j + 1 < n) { t += text[j] + text[j + 1]; j += 2; continue; }
      t += text[j++];
    }
    out.push({ text: t, quoted: false });
    i = j;
  }
  return out;
}

/** Decodes \X and \DDD escapes into octets (a binary string: one char per octet). */
export function unescape(s: string): string {
  if (!s.includes('\\')) return utf8Octets(s);
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\') { out += utf8Octets(c); continue; }
    const d = s.slice(i + 1, i + 4);
    if (/^[0-9]{3}$/.test(d)) {
      const v = Number(d);
      if (v > 255) throw new RdataError(`escape \\${d} is over 255`);
      out += String.fromCharCode(v);
      i += 3;
    } else if (i + 1 < s.length) {
      out += utf8Octets(s[i + 1]);
      i += 1;
    } else {
      throw new RdataError('dangling backslash');
    }
  }
  return out;
}

/** Text outside ASCII is taken as UTF-8 octets (a TXT record may carry any octets). */
function utf8Octets(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7e) return Buffer.from(s, 'utf8').toString('latin1');
  }
  return s;
}

/** One <character-string> (RFC 1035 3.3): a length octet and at most 255 octets. */
export function characterString(tok: Token, what: string): Uint8Array {
  const raw = unescape(tok.text);
  if (raw.length > 255) throw new RdataError(`${what}: a character-string is at most 255 octets, this one is ${raw.length} (split it into several quoted strings)`);
  const b = new Uint8Array(raw.length + 1);
  b[0] = raw.length;
  for (let i = 0; i < raw.length; i++) b[i + 1] = raw.charCodeAt(i);
  return b;
}

/** Quoted presentation of octets, escaping ", \ and non-printables as \DDD. */
export function quote(b: Uint8Array, start = 0, end = b.length): string {
  let s = '"';
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c === 0x22 || c === 0x5c) s += '\\' + String.fromCharCode(c);
    else if (c < 0x20 || c > 0x7e) s += '\\' + String(c).padStart(3, '0');
    else s += String.fromCharCode(c);
  }
  return s + '"';
}

export function uint(text: string, bits: 8 | 16 | 32, what: string): number {
  if (!/^[0-9]+$/.test(text)) throw new RdataError(`${what}: "${text}" is not a whole number`);
  const v = Number(text);
  const max = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  if (v > max) throw new RdataError(`${what}: ${text} is over ${max}`);
  return v;
}

/** A TTL-style duration (BIND: 1h30m, 2d, 1w) or plain seconds, for the SOA timers. */
export function duration(text: string, what: string): number {
  if (/^[0-9]+$/.test(text)) return uint(text, 32, what);
  const m = text.toLowerCase().match(/^([0-9]+[smhdw])+$/);
  if (!m) throw new RdataError(`${what}: "${text}" is not a number of seconds or a duration like 1h30m`);
  let total = 0;
  for (const part of text.toLowerCase().matchAll(/([0-9]+)([smhdw])/g)) {
    total += Number(part[1]) * { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[part[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  }
  if (total > 0xffffffff) throw new RdataError(`${what}: ${text} is too long`);
  return total;
}

export function ipv4(text: string, what = 'A'): Uint8Array {
  const m = /^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$/.exec(text);
  if (!m) throw new RdataError(`${what}: "${text}" is not an IPv4 address`);
  const b = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const v = Number(m[i + 1]);
    if (v > 255 || (m[i + 1].length > 1 && m[i + 1][0] === '0')) throw new RdataError(`${what}: "${text}" is not an IPv4 address`);
    b[i] = v;
  }
  return b;
}

/** RFC 4291 2.2 text to 16 octets, in one pass without intermediate strings or arrays (a
 *  million-domain load parses a million AAAA records). */
export function ipv6(text: string, what = 'AAAA'): Uint8Array {
  const bad = () => new RdataError(`${what}: "${text}" is not an IPv6 address`);
  const n = text.length;
  if (n < 2 || n > 45) throw bad();
  const b = new Uint8Array(16);
  let groups = 0;
  let gap = -1; // the group index "::" stands at
  let i = 0;
  if (text.charCodeAt(0) === 0x3a) {
    if (text.charCodeAt(1) !== 0x3a) throw bad();
    gap = 0;
    i = 2;
  }
  while (i < n) {
    const start = i;
    let v = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (d < 0) break;
      v = v * 16 + d;
    }
    if (i < n && text.charCodeAt(i) === 0x2e) {
      // An embedded IPv4 address (RFC 4291 2.2 form 3) stands for the last two groups.
      if (groups > 6) throw bad();
      b.set(ipv4(text.slice(start), what), 2 * groups);
      groups += 2;
      i = n;
      break;
    }
    if (i === start || i - start > 4 || groups === 8) throw bad();
    b[2 * groups] = v >> 8;
    b[2 * groups + 1] = v & 0xff;
    groups++;
    if (i === n) break;
    if (text.charCodeAt(i) !== 0x3a) throw bad();
    i++;
    if (i < n && text.charCodeAt(i) === 0x3a) {
      if (gap >= 0) throw bad();
      gap = groups;
      i++;
    } else if (i === n) {
      throw bad();
    }
  }
  if (gap < 0) {
    if (groups !== 8) throw bad();
    return b;
  }
  // "::" stands for one zero group or more (RFC 4291 2.2 form 2): the groups after it move to the end.
  if (groups > 7) throw bad();
  const tail = groups - gap;
  b.copyWithin(16 - 2 * tail, 2 * gap, 2 * groups);
  b.fill(0, 2 * gap, 16 - 2 * tail);
  return b;
}

/** RFC 5952 text form: lower case, the longest run of two or more zero groups as "::". */
export function ipv6Text(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return hex(g.slice(0, best)) + '::' + hex(g.slice(best + bestLen));
}

export function hexBytes(text: string, what: string): Uint8Array {
  const t = text.replace(/\s+/g, '');
  if (t.length % 2 !== 0 || !/^[0-9A-Fa-f]*$/.test(t)) throw new RdataError(`${what}: "${text.slice(0, 40)}" is not an even number of hex digits`);
  return Uint8Array.from(Buffer.from(t, 'hex'));
}

export function base64Bytes(text: string, what: string): Uint8Array {
  const t = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t) || t.length % 4 !== 0) throw new RdataError(`${what}: not valid base64`);
  return Uint8Array.from(Buffer.from(t, 'base64'));
}

export function hexText(b: Uint8Array, start = 0, end = b.length): string {
  return Buffer.from(b.subarray(start, end)).toString('hex').toUpperCase();
}
