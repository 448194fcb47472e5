// DNS Cookies (RFC 7873) with the interoperable server cookie of RFC 9018: the COOKIE option's
// wire form, SipHash-2-4, and the check of a server cookie against a list of secrets. Pure: the
// clock and the secrets are passed in (src/server/cookies.ts holds them).
import { skipName, type Query } from './query.js';
import { TYPE } from './constants.js';

/** EDNS option code of COOKIE (RFC 7873 4). */
export const OPTION_COOKIE = 10;
export const CLIENT_COOKIE_SIZE = 8;
/** RFC 9018 4: Version (1), Reserved (3), Timestamp (4), Hash (8). */
export const SERVER_COOKIE_SIZE = 16;
/** The option we add to a response: code, length, client cookie and server cookie. */
export const COOKIE_OPTION_SIZE = 4 + CLIENT_COOKIE_SIZE + SERVER_COOKIE_SIZE;
const VERSION = 1;
/** RFC 9018 4.3: a cookie older than an hour, or more than five minutes ahead, is not valid. */
const MAX_AGE_S = 3600;
const MAX_AHEAD_S = 300;

/** A COOKIE option as found in a query: the client cookie and (once learned) the server cookie. */
export interface QueryCookie {
  readonly client: Uint8Array;
  /** Empty when the client has not learned one yet (RFC 7873 5.2.2). */
  readonly server: Uint8Array;
}

/** The query's COOKIE option; undefined without one; 'malformed' for a length RFC 7873 5.2.2 says
 *  is FORMERR (not 8, and not 16 to 40). */
export function readCookie(msg: Uint8Array, q: Query): QueryCookie | 'malformed' | undefined {
  if (!q.edns) return undefined;
  const rdata = optRdata(msg, q);
  if (!rdata) return undefined;
  for (let p = rdata[0]; p + 4 <= rdata[1];) {
    const code = (msg[p] << 8) | msg[p + 1];
    const len = (msg[p + 2] << 8) | msg[p + 3];
    p += 4;
    if (p + len > rdata[1]) return undefined; // decodeQuery checked the record; a bad option list is not ours to judge
    if (code === OPTION_COOKIE) {
      if (len !== CLIENT_COOKIE_SIZE && (len < 16 || len > 40)) return 'malformed';
      return { client: msg.subarray(p, p + CLIENT_COOKIE_SIZE), server: msg.subarray(p + CLIENT_COOKIE_SIZE, p + len) };
    }
    p += len;
  }
  return undefined;
}

/** [start, end) of the OPT record's RDATA in a message whose question ends at q.questionEnd. */
function optRdata(msg: Uint8Array, q: Query): [number, number] | undefined {
  const total = ((msg[6] << 8) | msg[7]) + ((msg[8] << 8) | msg[9]) + ((msg[10] << 8) | msg[11]);
  let p = q.questionEnd;
  for (let i = 0; i < total; i++) {
    p = skipName(msg, p);
    if (p < 0 || p + 10 > msg.length) return undefined;
    const type = (msg[p] << 8) | msg[p + 1];
    const len = (msg[p + 8] << 8) | msg[p + 9];
    p += 10;
    if (type === TYPE.OPT) return [p, p + len];
    p += len;
  }
  return undefined;
}

/** RFC 9018 4.4: Hash = SipHash-2-4(Client Cookie | Version | Reserved | Timestamp | Client-IP,
 *  Server Secret), over the server cookie's first eight octets as given (Reserved included). */
function hash(secret: Uint8Array, client: Uint8Array, head: Uint8Array, ip: Uint8Array): Uint8Array {
  const input = new Uint8Array(CLIENT_COOKIE_SIZE + 8 + ip.length);
  input.set(client, 0);
  input.set(head.subarray(0, 8), CLIENT_COOKIE_SIZE);
  input.set(ip, CLIENT_COOKIE_SIZE + 8);
  return siphash24(secret, input);
}

/** A fresh RFC 9018 server cookie: version 1, reserved zero, the time in seconds (serial number
 *  arithmetic, RFC 1982, so it wraps), and the hash. */
export function makeServerCookie(secret: Uint8Array, client: Uint8Array, ip: Uint8Array, nowS: number): Uint8Array {
  const out = new Uint8Array(SERVER_COOKIE_SIZE);
  out[0] = VERSION;
  const t = nowS >>> 0;
  out[4] = t >>> 24; out[5] = (t >>> 16) & 0xff; out[6] = (t >>> 8) & 0xff; out[7] = t & 0xff;
  out.set(hash(secret, client, out, ip), 8);
  return out;
}

/** Whether a server cookie from a query is one we (or a server sharing a secret) made for this
 *  client and address, within its lifetime (RFC 9018 4.3). Any of `secrets` may have made it:
 *  the current one and those kept while a new one rolls out (RFC 9018 5). */
export function serverCookieValid(secrets: readonly Uint8Array[], client: Uint8Array, server: Uint8Array, ip: Uint8Array, nowS: number): boolean {
  if (server.length !== SERVER_COOKIE_SIZE || server[0] !== VERSION) return false;
  const t = ((server[4] << 24) | (server[5] << 16) | (server[6] << 8) | server[7]) >>> 0;
  // Serial number arithmetic (RFC 1982): the signed 32-bit difference.
  const age = ((nowS >>> 0) - t) | 0;
  if (age > MAX_AGE_S || age < -MAX_AHEAD_S) return false;
  for (const s of secrets) {
    const h = hash(s, client, server, ip);
    let diff = 0;
    for (let i = 0; i < 8; i++) diff |= h[i] ^ server[8 + i];
    if (diff === 0) return true;
  }
  return false;
}

/** The address a server cookie is bound to, as octets: 4 for IPv4 (also an IPv4-mapped IPv6
 *  address), 16 for IPv6. Empty for anything else (then no cookie can be valid for it). */
export function addressOctets(address: string): Uint8Array {
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/i.exec(address);
  if (v4) return Uint8Array.from(v4.slice(1, 5).map(Number));
  const zone = address.indexOf('%');
  const a = zone >= 0 ? address.slice(0, zone) : address;
  const halves = a.split('::');
  if (halves.length > 2 || !/^[0-9a-f:]*$/i.test(a)) return new Uint8Array(0);
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return new Uint8Array(0);
  const groups = [...head, ...Array<string>(missing).fill('0'), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = parseInt(groups[i], 16);
    if (!(g >= 0 && g <= 0xffff) || groups[i].length > 4) return new Uint8Array(0);
    out[2 * i] = g >> 8; out[2 * i + 1] = g & 0xff;
  }
  return out;
}

// SipHash-2-4 (Aumasson and Bernstein, 2012), 64-bit words as pairs of unsigned 32-bit halves:
// JavaScript numbers have no 64-bit integer arithmetic, and BigInt allocates per operation.
const v = new Uint32Array(8); // v0 hi, lo, v1 hi, lo, v2 hi, lo, v3 hi, lo

function add(a: number, b: number): void {
  const lo = (v[a + 1] + v[b + 1]) >>> 0;
  v[a] = (v[a] + v[b] + (lo < v[a + 1] ? 1 : 0)) >>> 0;
  v[a + 1] = lo;
}

function rotl(a: number, n: number): void {
  let hi = v[a];
  let lo = v[a + 1];
  if (n >= 32) { const t = hi; hi = lo; lo = t; n -= 32; }
  if (n === 0) { v[a] = hi; v[a + 1] = lo; return; }
  v[a] = ((hi << n) | (lo >>> (32 - n))) >>> 0;
  v[a + 1] = ((lo << n) | (hi >>> (32 - n))) >>> 0;
}

function xor(a: number, b: number): void { v[a] ^= v[b]; v[a + 1] ^= v[b + 1]; }

function round(): void {
  add(0, 2); rotl(2, 13); xor(2, 0); rotl(0, 32);
  add(4, 6); rotl(6, 16); xor(6, 4);
  add(0, 6); rotl(6, 21); xor(6, 0);
  add(4, 2); rotl(2, 17); xor(2, 4); rotl(4, 32);
}

function le32(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}

/** SipHash-2-4 of `data` under a 16-octet key; the 64-bit result little-endian, as the reference
 *  implementation writes it (and RFC 9018's vectors read it). */
export function siphash24(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (key.length !== 16) throw new RangeError('a SipHash key is 16 octets');
  const k0lo = le32(key, 0), k0hi = le32(key, 4), k1lo = le32(key, 8), k1hi = le32(key, 12);
  v[0] = k0hi ^ 0x736f6d65; v[1] = k0lo ^ 0x70736575;
  v[2] = k1hi ^ 0x646f7261; v[3] = k1lo ^ 0x6e646f6d;
  v[4] = k0hi ^ 0x6c796765; v[5] = k0lo ^ 0x6e657261;
  v[6] = k1hi ^ 0x74656462; v[7] = k1lo ^ 0x79746573;
  const n = data.length;
  const full = n - (n % 8);
  const last = new Uint8Array(8);
  for (let p = 0; p <= full; p += 8) {
    let mlo: number, mhi: number;
    if (p < full) {
      mlo = le32(data, p); mhi = le32(data, p + 4);
    } else {
      // The final word: the remaining octets, and the length modulo 256 in the top octet.
      last.fill(0);
      last.set(data.subarray(full), 0);
      last[7] = n & 0xff;
      mlo = le32(last, 0); mhi = le32(last, 4);
    }
    v[6] ^= mhi; v[7] ^= mlo;
    round(); round();
    v[0] ^= mhi; v[1] ^= mlo;
  }
  v[5] ^= 0xff;
  round(); round(); round(); round();
  const hi = (v[0] ^ v[2] ^ v[4] ^ v[6]) >>> 0;
  const lo = (v[1] ^ v[3] ^ v[5] ^ v[7]) >>> 0;
  return Uint8Array.of(lo & 0xff, (lo >>> 8) & 0xff, (lo >>> 16) & 0xff, lo >>> 24,
    hi & 0xff, (hi >>> 8) & 0xff, (hi >>> 16) & 0xff, hi >>> 24);
}

/** The response with `option` added to the end of its OPT record's RDATA (RFC 6891 6.1.2). The
 *  response must have an OPT record; without one it is returned as it is. */
export function appendOption(resp: Buffer, code: number, data: Uint8Array): Buffer {
  const counts = ((resp[4] << 8) | resp[5]);
  let p = 12;
  for (let i = 0; i < counts; i++) { p = skipName(resp, p); if (p < 0) return resp; p += 4; }
  const total = ((resp[6] << 8) | resp[7]) + ((resp[8] << 8) | resp[9]) + ((resp[10] << 8) | resp[11]);
  for (let i = 0; i < total; i++) {
    p = skipName(resp, p);
    if (p < 0 || p + 10 > resp.length) return resp;
    const type = (resp[p] << 8) | resp[p + 1];
    const len = (resp[p + 8] << 8) | resp[p + 9];
    if (type === TYPE.OPT) {
      const end = p + 10 + len;
      const out = Buffer.allocUnsafe(resp.length + 4 + data.length);
      resp.copy(out, 0, 0, end);
      out.writeUInt16BE(len + 4 + data.length, p + 8);
      out.writeUInt16BE(code, end);
      out.writeUInt16BE(data.length, end + 2);
      out.set(data, end + 4);
      resp.copy(out, end + 4 + data.length, end);
      return out;
    }
    p += 10 + len;
  }
  return resp;
}
