// SVCB/HTTPS SvcParams (RFC 9460 2.1, 7): key=value presentation <-> wire, keys ascending.
import { RdataError } from './rdata-error.js';
import { unescape, uint, ipv4, ipv6, ipv6Text, base64Bytes, type Token } from './rdata-text.js';

const KEYS = ['mandatory', 'alpn', 'no-default-alpn', 'port', 'ipv4hint', 'ech', 'ipv6hint'];

function keyCode(name: string, what: string): number {
  const i = KEYS.indexOf(name.toLowerCase());
  if (i >= 0) return i;
  const m = /^key([0-9]{1,5})$/i.exec(name);
  if (m && Number(m[1]) <= 65535) return Number(m[1]);
  throw new RdataError(`${what}: unknown SvcParamKey "${name}"`);
}

function keyName(code: number): string {
  return code < KEYS.length ? KEYS[code] : `key${code}`;
}

/** A value list (RFC 9460 A.1): the value is first decoded as a character-string (\DDD, \X), then
 *  split on commas, where \, and \\ stand for a comma and a backslash inside an item. */
function commaList(v: string): string[] {
  const d = unescape(v);
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < d.length; i++) {
    if (d[i] === '\\' && i + 1 < d.length) { cur += d[++i]; continue; }
    if (d[i] === ',') { out.push(cur); cur = ''; continue; }
    cur += d[i];
  }
  out.push(cur);
  return out;
}

function valueWire(code: number, value: string | undefined, what: string): number[] {
  const need = () => { if (value === undefined || value === '') throw new RdataError(`${what}: ${keyName(code)} needs a value`); return value; };
  switch (code) {
    case 0: {
      // RFC 9460 8: the keys in increasing order, each once.
      const codes = commaList(need()).map((k) => keyCode(k, what)).sort((a, b) => a - b);
      for (let i = 1; i < codes.length; i++) {
        if (codes[i] === codes[i - 1]) throw new RdataError(`${what}: SvcParamKey ${keyName(codes[i])} appears twice in mandatory (RFC 9460 8)`);
      }
      return codes.flatMap((c) => [c >> 8, c & 0xff]);
    }
    case 1: return commaList(need()).flatMap((raw) => {
      if (raw.length === 0 || raw.length > 255) throw new RdataError(`${what}: alpn id "${raw}" must be 1-255 octets`);
      return [raw.length, ...Array.from(raw, (ch) => ch.charCodeAt(0))];
    });
    case 2: if (value !== undefined && value !== '') throw new RdataError(`${what}: no-default-alpn takes no value`); return [];
    case 3: { const p = uint(need(), 16, what); return [p >> 8, p & 0xff]; }
    case 4: return commaList(need()).flatMap((a) => Array.from(ipv4(a, what)));
    case 5: return Array.from(base64Bytes(need(), what));
    case 6: return commaList(need()).flatMap((a) => Array.from(ipv6(a, what)));
    default: return value === undefined ? [] : Array.from(unescape(value), (ch) => ch.charCodeAt(0));
  }
}

export function parseSvcParams(toks: Token[], what: string): Uint8Array {
  const params = new Map<number, number[]>();
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    const eq = t.text.indexOf('=');
    const name = eq < 0 ? t.text : t.text.slice(0, eq);
    let value = eq < 0 ? undefined : t.text.slice(eq + 1);
    // key="quoted value" arrives as two tokens: key= and the quoted string.
    if (value === '' && toks[i + 1]?.quoted) value = toks[++i].text;
    const code = keyCode(name, what);
    if (params.has(code)) throw new RdataError(`${what}: SvcParamKey ${keyName(code)} appears twice (RFC 9460 2.2)`);
    params.set(code, valueWire(code, value, what));
  }
  const mandatory = params.get(0);
  if (mandatory) {
    for (let i = 0; i < mandatory.length; i += 2) {
      const k = (mandatory[i] << 8) | mandatory[i + 1];
      if (k === 0 || !params.has(k)) throw new RdataError(`${what}: mandatory lists ${keyName(k)}, which is ${k === 0 ? 'not allowed there' : 'missing'} (RFC 9460 8)`);
    }
  }
  const out: number[] = [];
  for (const code of [...params.keys()].sort((a, b) => a - b)) {
    const v = params.get(code)!;
    out.push(code >> 8, code & 0xff, v.length >> 8, v.length & 0xff, ...v);
  }
  return Uint8Array.from(out);
}

function escapeValue(b: Uint8Array, escapeComma = true): string {
  let s = '';
  for (const c of b) s += (c === 0x2c && escapeComma) || c === 0x5c ? '\\' + String.fromCharCode(c) : c < 0x21 || c > 0x7e || c === 0x22 ? '\\' + String(c).padStart(3, '0') : String.fromCharCode(c);
  return s;
}

/** One alpn id in a value list (RFC 9460 A.1): \, and \\ inside the item, then character-string escapes. */
function alpnIdText(id: Uint8Array): string {
  const item: number[] = [];
  for (const c of id) { if (c === 0x2c || c === 0x5c) item.push(0x5c); item.push(c); }
  return escapeValue(Uint8Array.from(item), false);
}

export function formatSvcParams(b: Uint8Array, what: string): string {
  const out: string[] = [];
  let p = 0;
  let last = -1;
  while (p < b.length) {
    if (p + 4 > b.length) throw new RdataError(`${what}: truncated SvcParam`);
    const code = (b[p] << 8) | b[p + 1];
    const len = (b[p + 2] << 8) | b[p + 3];
    if (code <= last) throw new RdataError(`${what}: SvcParamKeys out of order`);
    last = code;
    const v = b.subarray(p + 4, p + 4 + len);
    if (v.length !== len) throw new RdataError(`${what}: truncated SvcParam`);
    p += 4 + len;
    const k = keyName(code);
    switch (code) {
      case 0: { const ks: string[] = []; for (let i = 0; i < v.length; i += 2) ks.push(keyName((v[i] << 8) | v[i + 1])); out.push(`${k}=${ks.join(',')}`); break; }
      case 1: { const ids: string[] = []; for (let i = 0; i < v.length;) { const n = v[i]; ids.push(alpnIdText(v.subarray(i + 1, i + 1 + n))); i += 1 + n; } out.push(`${k}=${ids.join(',')}`); break; }
      case 2: out.push(k); break;
      case 3: out.push(`${k}=${(v[0] << 8) | v[1]}`); break;
      case 4: { const a: string[] = []; for (let i = 0; i + 4 <= v.length; i += 4) a.push(Array.from(v.subarray(i, i + 4)).join('.')); out.push(`${k}=${a.join(',')}`); break; }
      case 5: out.push(`${k}=${Buffer.from(v).toString('base64')}`); break;
      case 6: { const a: string[] = []; for (let i = 0; i + 16 <= v.length; i += 16) a.push(ipv6Text(v, i)); out.push(`${k}=${a.join(',')}`); break; }
      default: out.push(len ? `${k}=${escapeValue(v)}` : k);
    }
  }
  return out.join(' ');
}
