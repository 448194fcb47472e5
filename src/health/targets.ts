// Which addresses an active check may reach. A tenant names the target of its own checks, so
// without a rule any tenant could make the primary connect to its loopback, the database's
// network or a cloud metadata address (server-side request forgery). By default only public
// addresses are allowed; `GLIDEPATH_HEALTH_ALLOW` adds networks (an operator whose servers live on
// 10.0.0.0/8 lists it) or `any`. The rule is applied to the address actually connected to: after
// name resolution (through the `lookup` hook of node:net and node:http), so a name that resolves to
// a private address, or starts to (DNS rebinding), is refused the same as the literal.
import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';

/** Not reachable by default: RFC 6890 special-purpose ranges that are not the public Internet.
 *  (IPv4-mapped IPv6 addresses need no rule: BlockList checks them against the IPv4 ones.) */
const SPECIAL: Array<[string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'], ['10.0.0.0', 8, 'ipv4'], ['100.64.0.0', 10, 'ipv4'], ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.0.0.0', 24, 'ipv4'], ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'], ['224.0.0.0', 4, 'ipv4'], ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'], ['::1', 128, 'ipv6'], ['64:ff9b:1::', 48, 'ipv6'],
  ['fc00::', 7, 'ipv6'], ['fe80::', 10, 'ipv6'], ['ff00::', 8, 'ipv6'],
];

export class TargetPolicy {
  private readonly special = new BlockList();
  private readonly allowed = new BlockList();
  private readonly any: boolean;

  /** `allow`: "any", or networks ("10.0.0.0/8", "::1", "192.0.2.7") reachable although special. */
  constructor(allow: readonly string[] = []) {
    this.any = allow.includes('any');
    for (const [a, p, t] of SPECIAL) this.special.addSubnet(a, p, t);
    for (const n of allow) {
      if (n === 'any') continue;
      const [addr, len] = n.split('/');
      const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      this.allowed.addSubnet(addr, len === undefined ? (type === 'ipv6' ? 128 : 32) : Number(len), type);
    }
  }

  /** Whether a check may connect to this address. */
  permits(address: string): boolean {
    if (this.any) return true;
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    return !this.special.check(address, type) || this.allowed.check(address, type);
  }

  /** A `lookup` for node:net / node:http that fails with EACCES for an address the policy refuses. */
  readonly lookup = (host: string, options: object, cb: (err: Error | null, address: string | LookupAddress[], family?: number) => void): void => {
    dnsLookup(host, { ...options, all: true }, (err, addresses) => {
      if (err) return cb(err, '');
      const ok = addresses.filter((a) => this.permits(a.address));
      if (!ok.length) return cb(Object.assign(new Error(`${host} resolves to ${addresses.map((a) => a.address).join(', ')}: not allowed (GLIDEPATH_HEALTH_ALLOW)`), { code: 'EACCES' }), '');
      if ((options as { all?: boolean }).all) cb(null, ok);
      else cb(null, ok[0].address, ok[0].family);
    });
  };

  /** The refusal for a literal address (node:net skips `lookup` for those), else undefined. */
  refusesLiteral(host: string): string | undefined {
    const h = host.replace(/^\[|\]$/g, '');
    return isIP(h) && !this.permits(h) ? `${h} is not allowed (GLIDEPATH_HEALTH_ALLOW)` : undefined;
  }
}
