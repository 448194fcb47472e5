// Who may transfer a domain (RFC 5936 4.2: the server decides, by address and by TSIG key): the
// in-memory form of the settings, CIDR parsing for the API, and the check itself. Pure.
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { ipv4, ipv6 } from '../dns/rdata-text.js';
import { parseHostPort, type HostPort } from '../config.js';
import type { TsigKey } from '../dns/tsig.js';

export interface DomainTransfer {
  /** The domain's name: NOTIFY and re-announcement look up only configured domains in the snapshot. */
  readonly name: string;
  readonly allow: readonly string[];
  readonly allowList: BlockList;
  /** Name of the key transfers must be signed with; null: address check alone. */
  readonly key: string | null;
  readonly notify: readonly HostPort[];
}

export interface TransferSettings {
  readonly keys: ReadonlyMap<string, TsigKey>;
  /** By domain id. */
  readonly domains: ReadonlyMap<number, DomainTransfer>;
}

export const NO_SETTINGS: TransferSettings = { keys: new Map(), domains: new Map() };

export class CidrError extends Error {}

/** "192.0.2.0/24", "2001:db8::/32", or a bare address (a /32 or /128). Host bits must be zero, as
 *  PostgreSQL's cidr has it. Returns the normal form. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6'; text: string } {
  const m = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!m) throw new CidrError('not an address or address/prefix');
  const family = isIPv4(m[1]) ? 'ipv4' : isIPv6(m[1]) ? 'ipv6' : undefined;
  if (!family) throw new CidrError(`"${m[1]}" is not an IPv4 or IPv6 address`);
  const bits = family === 'ipv4' ? 32 : 128;
  const prefix = m[2] === undefined ? bits : Number(m[2]);
  if (prefix > bits) throw new CidrError(`prefix /${prefix} is longer than ${bits} bits`);
  const bytes = family === 'ipv4' ? ipv4(m[1]) : ipv6(m[1]);
  for (let i = prefix; i < bits; i++) {
    if (bytes[i >> 3] & (0x80 >> (i & 7))) throw new CidrError(`host bits are set: did you mean the network of ${m[1]}/${prefix}?`);
  }
  return { address: m[1], prefix, family, text: `${m[1]}/${prefix}` };
}

/** "address:port" or "[v6]:port" (port 53 when left out) of a secondary to NOTIFY: an address,
 *  never a name (no resolution on the notify path). */
export function parseNotifyTarget(text: string): HostPort {
  const hp = parseHostPort(text, 53, 'notify');
  if (!isIPv4(hp.host) && !isIPv6(hp.host)) throw new CidrError(`"${hp.host}" is not an IP address`);
  if (hp.port === 0) throw new CidrError('port 0');
  return hp;
}

export function buildDomainTransfer(row: { name: string; allow: readonly string[]; tsig_key: string | null; notify: readonly string[] }): DomainTransfer {
  const list = new BlockList();
  for (const a of row.allow) {
    const c = parseCidr(a);
    list.addSubnet(c.address, c.prefix, c.family);
  }
  const notify: HostPort[] = [];
  for (const n of row.notify) {
    try { notify.push(parseNotifyTarget(n)); } catch { /* validated when written; skip if not */ }
  }
  return { name: row.name, allow: row.allow, allowList: list, key: row.tsig_key, notify };
}

/** Unmaps IPv4-mapped IPv6 addresses (dual-stack sockets report "::ffff:192.0.2.1"). */
function plainAddress(addr: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  if (m) return { address: m[1], family: 'ipv4' };
  return { address: addr, family: isIPv6(addr) ? 'ipv6' : 'ipv4' };
}

export type AccessDecision = { ok: true } | { ok: false; why: string };

/** Transfers need a settings row, an allowed address, and, when the domain names a key, a request
 *  verified with that key. `signedWith`: the key a valid TSIG used, if any. */
export function mayTransfer(t: DomainTransfer | undefined, peer: string, signedWith: string | undefined): AccessDecision {
  if (!t) return { ok: false, why: 'transfers are not configured for this domain' };
  const p = plainAddress(peer);
  if (!t.allowList.check(p.address, p.family)) return { ok: false, why: `address ${p.address} is not allowed` };
  if (t.key && signedWith !== t.key) return { ok: false, why: signedWith ? `signed with ${signedWith}, not ${t.key}` : `not signed with ${t.key}` };
  return { ok: true };
}
