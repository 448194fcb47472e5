// The benchmark data set, generated deterministically: customer domains of about a dozen records
// each, a delegation-only registry domain, one master file per domain (for NSD and Knot) and a
// dnsperf query file ("name TYPE" per line) with a fixed mix of answer kinds.
import { mkdir, writeFile, open } from 'node:fs/promises';
import { join } from 'node:path';

export interface DatasetOptions {
  domains: number;
  delegations: number;
  queries: number;
  seed: number;
}

/** An absolute domain name inside rdata (written relative, absolute or dot-less per consumer). */
export interface NameField { name: string }
export type Field = string | NameField;

export interface Rec {
  /** Relative to the apex: '@', 'www', '_sip._udp', '*.app'. */
  owner: string;
  ttl: number;
  type: string;
  fields: Field[];
}

export interface ZoneDef { apex: string; delegationOnly: boolean; records: Rec[] }

export const REGISTRY = 'reg.';
export const SOA_SERIAL = 2024010101;
const NS_HOSTS = ['ns1.glidepath.test.', 'ns2.glidepath.test.'];

export const customerApex = (i: number) => `cust${i}.test.`;
export const delegationName = (k: number) => `dom${k}.${REGISTRY}`;

export const TYPE_CODES: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28, SRV: 33 };

const n = (name: string): NameField => ({ name });
const octet = (i: number) => (i % 254) + 1;

/** RFC 5952 text of eight 16-bit groups. */
export function ipv6(groups: number[]): string {
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

function soa(apex: string): Rec {
  return { owner: '@', ttl: 3600, type: 'SOA', fields: [n(NS_HOSTS[0]), n(`hostmaster.${apex}`), String(SOA_SERIAL), '7200', '3600', '1209600', '300'] };
}

export function customerZone(i: number): ZoneDef {
  const apex = customerApex(i);
  const sub = (l: string) => n(`${l}.${apex}`);
  return {
    apex, delegationOnly: false, records: [
      soa(apex),
      ...NS_HOSTS.map((h): Rec => ({ owner: '@', ttl: 3600, type: 'NS', fields: [n(h)] })),
      { owner: '@', ttl: 300, type: 'A', fields: [`192.0.2.${octet(i)}`] },
      { owner: '@', ttl: 300, type: 'AAAA', fields: [ipv6([0x2001, 0xdb8, Math.floor(i / 65536), i % 65536, 0, 0, 0, 1])] },
      { owner: '@', ttl: 3600, type: 'MX', fields: ['10', sub('mail')] },
      { owner: '@', ttl: 3600, type: 'TXT', fields: ['"v=spf1 mx -all"'] },
      { owner: 'www', ttl: 300, type: 'CNAME', fields: [n(apex)] },
      { owner: 'mail', ttl: 300, type: 'A', fields: [`198.51.100.${octet(i)}`] },
      { owner: 'sip', ttl: 300, type: 'A', fields: [`203.0.113.${octet(i)}`] },
      { owner: '_sip._udp', ttl: 3600, type: 'SRV', fields: ['10', '5', '5060', sub('sip')] },
      { owner: '_sip._tcp', ttl: 3600, type: 'SRV', fields: ['20', '5', '5060', sub('sip')] },
      { owner: '*.app', ttl: 300, type: 'A', fields: [`192.0.2.${octet(i + 100)}`] },
    ],
  };
}

export function registryZone(delegations: number): ZoneDef {
  const records: Rec[] = [soa(REGISTRY), ...NS_HOSTS.map((h): Rec => ({ owner: '@', ttl: 86400, type: 'NS', fields: [n(h)] }))];
  for (let k = 1; k <= delegations; k++) {
    const d = delegationName(k);
    const owner = d.slice(0, -REGISTRY.length - 1);
    records.push(
      { owner, ttl: 86400, type: 'NS', fields: [n(`ns1.${d}`)] },
      { owner, ttl: 86400, type: 'NS', fields: [n(`ns2.${d}`)] },
      { owner: `ns1.${owner}`, ttl: 86400, type: 'A', fields: [`198.51.100.${octet(k)}`] },
      { owner: `ns2.${owner}`, ttl: 86400, type: 'A', fields: [`203.0.113.${octet(k)}`] },
    );
  }
  return { apex: REGISTRY, delegationOnly: true, records };
}

/** Every zone of the data set, customers first, the registry last (generated on the fly). */
export function* zones(o: DatasetOptions): Generator<ZoneDef> {
  for (let i = 1; i <= o.domains; i++) yield customerZone(i);
  if (o.delegations > 0) yield registryZone(o.delegations);
}

export const ownerName = (owner: string, apex: string) => (owner === '@' ? apex : `${owner}.${apex}`);

/** Master-file text with every name absolute. */
export function masterFile(z: ZoneDef): string {
  const lines = [`$ORIGIN ${z.apex}`];
  for (const r of z.records) {
    const data = r.fields.map((f) => (typeof f === 'string' ? f : f.name)).join(' ');
    lines.push(`${ownerName(r.owner, z.apex)} ${r.ttl} IN ${r.type} ${data}`);
  }
  return lines.join('\n') + '\n';
}

/** Glidepath's stored form: owner relative, names at or under the apex relative ('@' the apex). */
export function relativeData(r: Rec, apex: string): string {
  return r.fields.map((f) => {
    if (typeof f === 'string') return f;
    if (f.name === apex) return '@';
    return f.name.endsWith('.' + apex) ? f.name.slice(0, -apex.length - 1) : f.name;
  }).join(' ');
}

/** PowerDNS content: absolute names without the trailing dot. */
export function pdnsContent(r: Rec): string {
  return r.fields.map((f) => (typeof f === 'string' ? f : f.name.replace(/\.$/, ''))).join(' ');
}

/** Seeded PRNG (mulberry32), so every run queries the same names. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The query mix: kind, share, and how to make one query of that kind. */
export type Kind = 'positive' | 'cname' | 'nxdomain' | 'nodata' | 'wildcard' | 'referral';
export const MIX: Array<[Kind, number]> = [
  ['positive', 0.60], ['cname', 0.10], ['nxdomain', 0.10], ['nodata', 0.05], ['wildcard', 0.05], ['referral', 0.10],
];
const POSITIVE: Array<[string, string, number]> = [
  ['@', 'A', 15], ['@', 'AAAA', 8], ['@', 'MX', 8], ['@', 'TXT', 5], ['@', 'NS', 5], ['@', 'SOA', 3],
  ['mail', 'A', 6], ['sip', 'A', 5], ['_sip._udp', 'SRV', 3], ['_sip._tcp', 'SRV', 2],
];

function pickWeighted<T>(r: () => number, items: Array<[T, number]>): T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  let x = r() * total;
  for (const [v, w] of items) { if ((x -= w) < 0) return v; }
  return items[items.length - 1][0];
}

export function makeQuery(kind: Kind, r: () => number, o: DatasetOptions): string {
  const dom = customerApex(1 + Math.floor(r() * o.domains)).slice(0, -1);
  const rand = () => Math.floor(r() * 1e9).toString(36);
  switch (kind) {
    case 'positive': {
      const [owner, type] = pickWeighted(r, POSITIVE.map(([ow, t, w]): [[string, string], number] => [[ow, t], w]));
      return `${owner === '@' ? dom : `${owner}.${dom}`} ${type}`;
    }
    case 'cname': return `www.${dom} A`;
    case 'nxdomain': return `nx-${rand()}.${dom} A`;
    case 'nodata': return r() < 0.5 ? `mail.${dom} AAAA` : `sip.${dom} TXT`;
    case 'wildcard': return `${rand()}.app.${dom} A`;
    case 'referral': {
      const d = delegationName(1 + Math.floor(r() * o.delegations)).slice(0, -1);
      return r() < 0.7 ? `www.${d} A` : `${d} A`;
    }
  }
}

export interface Written { dir: string; zoneDir: string; queryFile: string; files: Array<{ apex: string; file: string }>; records: number; queryCounts: Record<Kind, number> }

/** Writes the query file and (unless masterFiles is false: Glidepath only) every master file under dir. */
export async function writeDataset(dir: string, o: DatasetOptions, masterFiles = true): Promise<Written> {
  const zoneDir = join(dir, 'zones');
  await mkdir(zoneDir, { recursive: true });
  const files: Written['files'] = [];
  let records = 0;
  const batch: Array<Promise<void>> = [];
  for (const z of zones(o)) {
    const file = `${z.apex}zone`;
    records += z.records.length;
    if (!masterFiles) continue;
    files.push({ apex: z.apex, file });
    batch.push(writeFile(join(zoneDir, file), masterFile(z)));
    if (batch.length >= 256) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  const mix = o.delegations > 0 ? MIX : MIX.filter(([k]) => k !== 'referral');
  const r = rng(o.seed);
  const queryFile = join(dir, 'queries.txt');
  const fh = await open(queryFile, 'w');
  const queryCounts: Record<Kind, number> = { positive: 0, cname: 0, nxdomain: 0, nodata: 0, wildcard: 0, referral: 0 };
  let chunk: string[] = [];
  for (let q = 0; q < o.queries; q++) {
    const kind = pickWeighted(r, mix);
    queryCounts[kind]++;
    chunk.push(makeQuery(kind, r, o));
    if (chunk.length >= 10_000) { await fh.write(chunk.join('\n') + '\n'); chunk = []; }
  }
  if (chunk.length) await fh.write(chunk.join('\n') + '\n');
  await fh.close();
  return { dir, zoneDir, queryFile, files, records, queryCounts };
}

/** Apexes probed for readiness: first, last, registry, and a spread in between. */
export function probeApexes(o: DatasetOptions, count = 32): string[] {
  const set = new Set<string>([customerApex(1), customerApex(o.domains)]);
  for (let k = 1; k < count; k++) set.add(customerApex(1 + Math.floor((k * (o.domains - 1)) / count)));
  if (o.delegations > 0) set.add(REGISTRY);
  return [...set];
}
