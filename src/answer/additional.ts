// Additional section processing (RFC 1034 4.3.2 step 6, RFC 2181 5.4.1): A and AAAA of in-domain
// targets of NS, MX and SRV records, each owner and type once.
import { TYPE } from '../dns/constants.js';
import type { Domain } from '../snapshot/domain.js';
import type { CompiledName, CompiledZone, RRset } from '../snapshot/zone.js';
import { isNameLike } from '../snapshot/zone.js';
import type { Answer } from './resolve.js';
import { nodeOf } from './in-domain.js';

/** Where the target name sits in each type's rdata (RFC 1035 3.3.11, 3.3.9; RFC 2782). */
function target(type: number, parts: RRset['rrs'][number]['parts']): CompiledName | undefined {
  if (type !== TYPE.NS && type !== TYPE.MX && type !== TYPE.SRV) return undefined;
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i];
    if (isNameLike(p)) return p;
  }
  return undefined;
}

export function addTargetAddresses(ans: Answer, zone: CompiledZone, domain: Domain, set: RRset): void {
  if (set.type !== TYPE.NS && set.type !== TYPE.MX && set.type !== TYPE.SRV) return;
  for (const rr of set.rrs) {
    const name = target(set.type, rr.parts);
    if (!name) continue;
    const node = nodeOf(zone, name, domain);
    if (!node) continue;
    for (const t of [TYPE.A, TYPE.AAAA]) {
      const addr = node.rrsets.get(t);
      if (!addr) continue;
      if (ans.additional.some((e) => e.set === addr)) continue;
      ans.additional.push({ owner: node.name, set: addr });
    }
  }
}
