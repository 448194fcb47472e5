// Whether a name found in zone data (a CNAME, DNAME, NS, MX or SRV target) lies inside the domain
// being answered, and the node it falls on: both resolve.ts (CNAME chains, RFC 1034 4.3.2 step 3a)
// and additional.ts (step 6) need it, so it lives apart from both.
import type { Domain } from '../snapshot/domain.js';
import type { CompiledName, CompiledZone, ZoneNode } from '../snapshot/zone.js';

/** The relative key labels of a target name when it lies in the domain, else undefined. */
export function inDomain(name: CompiledName, domain: Domain): readonly string[] | undefined {
  if (name.relative) return name.keys;
  const k = name.keys;
  const a = domain.keys;
  if (k.length < a.length) return undefined;
  const off = k.length - a.length;
  for (let i = 0; i < a.length; i++) if (k[off + i] !== a[i]) return undefined;
  return k.slice(0, off);
}

/** The zone node a target name falls on, if the domain holds it. */
export function nodeOf(zone: CompiledZone, name: CompiledName, domain: Domain): ZoneNode | undefined {
  const keys = inDomain(name, domain);
  return keys ? zone.nodes.get(keys.join('.')) : undefined;
}
