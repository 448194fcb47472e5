// Master file output: $ORIGIN, then SOA, apex NS, and the rest by owner (apex first) and type.
// parseZoneFile(writeZoneFile(x)) gives x back.
import { nameToText, labelToText } from '../dns/name.js';
import { typeName, TYPE } from '../dns/constants.js';
import { formatRdata, type RdataName, type RdataPart } from '../dns/rdata.js';

export interface WritableRecord { owner: RdataName; ttl: number; type: number; parts: RdataPart[] }

function ownerText(n: RdataName): string {
  if (!n.relative) return nameToText(n.labels);
  return n.labels.length ? n.labels.map(labelToText).join('.') : '@';
}

/** Sort key: apex first, then names in canonical order (RFC 4034 6.1: labels compared right to left). */
function ownerSortKey(n: RdataName): string {
  return [...n.labels].reverse().map((l) => l.toLowerCase()).join('\u0000');
}

function rank(r: WritableRecord): number {
  const apex = r.owner.relative && r.owner.labels.length === 0;
  if (apex && r.type === TYPE.SOA) return 0;
  if (apex && r.type === TYPE.NS) return 1;
  return apex ? 2 : 3;
}

export function writeZoneFile(apex: string[], records: readonly WritableRecord[]): string {
  const sorted = [...records].sort((a, b) => rank(a) - rank(b)
    || (ownerSortKey(a.owner) < ownerSortKey(b.owner) ? -1 : ownerSortKey(a.owner) > ownerSortKey(b.owner) ? 1 : 0)
    || a.type - b.type);
  const lines = [`$ORIGIN ${nameToText(apex)}`];
  for (const r of sorted) {
    lines.push(`${ownerText(r.owner)}\t${r.ttl}\tIN\t${typeName(r.type)}\t${formatRdata(r.type, r.parts)}`);
  }
  return lines.join('\n') + '\n';
}
