// Response Rate Limiting over UDP, as BIND and Knot define it: responses are counted per client
// network (/24 for IPv4, /56 for IPv6 by default), per class of response and per name (a positive
// answer per query name and type; NXDOMAIN and NODATA/referrals per zone; errors per network),
// and an account past its rate is limited: dropped, except every `slip`-th, which goes out as a
// truncated answer so a real client behind the spoofed address retries over TCP. TCP is never
// limited (it cannot be spoofed), nor are exempt networks and clients presenting a valid server
// cookie (RFC 7873 5.3: the address is proven).
//
// The account (BIND's "rate" and "window"): credited `rate` per second up to `rate`, debited one
// per response; below zero the response is limited, and the debt is kept down to -window * rate,
// so a flood stays limited until it has stopped for up to `window` seconds.
import { addressOctets } from '../dns/cookie.js';
import type { RrlSettings } from '../config.js';

export const RRL_CLASSES = ['positive', 'nxdomain', 'nodata', 'error'] as const;
export type RrlClass = (typeof RRL_CLASSES)[number];
export const RRL_ACTIONS = ['dropped', 'slipped', 'logged'] as const;

export const PASS = 0;
export const DROP = 1;
export const SLIP = 2;
export type RrlAction = typeof PASS | typeof DROP | typeof SLIP;

interface Account { balance: number; last: number; limited: number }

interface Network { octets: Uint8Array; bits: number }

/** "192.0.2.0/24" or "2001:db8::/32" (a bare address is its own /32 or /128). */
export function parseNetwork(text: string): Network | undefined {
  const [addr, len] = text.trim().split('/');
  const octets = addressOctets(addr);
  if (!octets.length) return undefined;
  const bits = len === undefined ? octets.length * 8 : Number(len);
  if (!Number.isInteger(bits) || bits < 0 || bits > octets.length * 8) return undefined;
  return { octets, bits };
}

function inNetwork(ip: Uint8Array, n: Network): boolean {
  if (ip.length !== n.octets.length) return false;
  let bits = n.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i] & mask) !== (n.octets[i] & mask)) return false;
  }
  return true;
}

export class ResponseRateLimiter {
  private readonly accounts = new Map<string, Account>();
  private readonly exempt: Network[];
  private readonly tableSize: number;
  /** Counts by class and action: index class * 3 + action (RRL_CLASSES x RRL_ACTIONS). */
  readonly counts = new Array<number>(RRL_CLASSES.length * RRL_ACTIONS.length).fill(0);
  /** Called once when an account starts being limited (for a log line). */
  onLimited: ((network: string, cls: RrlClass, name: string) => void) | undefined;

  constructor(readonly settings: RrlSettings) {
    this.exempt = settings.exempt.map((e) => {
      const n = parseNetwork(e);
      if (!n) throw new RangeError(`not a network: "${e}"`);
      return n;
    });
    this.tableSize = settings.tableSize ?? 100_000;
  }

  /**
   * What to do with one UDP response to `peer`. `zone`: the apex of the domain the answer came
   * from (NXDOMAIN and NODATA are counted per zone, RFC 2308 answers name it in their SOA).
   * `resp`: the response as it would be sent (its RCODE and answer count give the class).
   */
  decide(resp: Uint8Array, questionEnd: number, zone: string | undefined, peer: string, validCookie: boolean, nowMs: number): RrlAction {
    if (validCookie) return PASS;
    const ip = addressOctets(peer);
    if (!ip.length) return PASS;
    for (const n of this.exempt) if (inNetwork(ip, n)) return PASS;
    const rcode = (resp[3] & 0x0f);
    const answers = (resp[6] << 8) | resp[7];
    let cls: RrlClass;
    let name: string;
    if (rcode === 3) { cls = 'nxdomain'; name = zone ?? ''; }
    else if (rcode !== 0) { cls = 'error'; name = ''; }
    else if (answers === 0) { cls = 'nodata'; name = zone ?? ''; }
    else { cls = 'positive'; name = questionKey(resp, questionEnd); }
    const net = networkKey(ip, ip.length === 4 ? this.settings.ipv4Prefix : this.settings.ipv6Prefix);
    const key = `${net} ${cls} ${name}`;
    const { rate, window } = this.settings;
    const now = nowMs; // milliseconds: (now - last) * rate / 1000 stays exact for whole milliseconds
    let a = this.accounts.get(key);
    if (a) {
      // Most recently used last: the Map's order is the eviction order.
      this.accounts.delete(key);
      a.balance = Math.min(rate, a.balance + ((now - a.last) * rate) / 1000);
      a.last = now;
    } else {
      if (this.accounts.size >= this.tableSize) this.accounts.delete(this.accounts.keys().next().value!);
      a = { balance: rate, last: now, limited: 0 };
    }
    this.accounts.set(key, a);
    a.balance -= 1;
    if (a.balance >= 0) { a.limited = 0; return PASS; }
    if (a.balance < -window * rate) a.balance = -window * rate;
    if (a.limited++ === 0) this.onLimited?.(net, cls, name);
    const c = RRL_CLASSES.indexOf(cls) * RRL_ACTIONS.length;
    if (this.settings.mode === 'log') { this.counts[c + 2]++; return PASS; }
    const slip = this.settings.slip;
    if (slip > 0 && a.limited % slip === 0) { this.counts[c + 1]++; return SLIP; }
    this.counts[c]++;
    return DROP;
  }
}

/** The client's network: its address cut to `bits`, as text. */
function networkKey(ip: Uint8Array, prefix: number): string {
  const out: number[] = [];
  for (let i = 0, bits = prefix; i < ip.length; i++, bits -= 8) out.push(bits >= 8 ? ip[i] : bits > 0 ? ip[i] & ((0xff << (8 - bits)) & 0xff) : 0);
  return (ip.length === 4 ? out.join('.') : Buffer.from(out).toString('hex')) + `/${prefix}`;
}

/** The question's name (lower-case) and type, as one string: a positive answer's account. */
function questionKey(resp: Uint8Array, questionEnd: number): string {
  let s = '';
  for (let i = 12; i < questionEnd - 2; i++) {
    const c = resp[i];
    s += String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c);
  }
  return s;
}
