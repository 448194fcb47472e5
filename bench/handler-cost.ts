// CPU time and bytes allocated per query in the handler alone (decode, cache, resolve, encode),
// without sockets: the bench data set and query file, in process.
//   npm run -s build && node --max-semi-space-size=64 dist/bench/handler-cost.js [--domains N] [--no-cache]
// GLIDEPATH_STATS=off leaves the per-domain counters out (on by default, as in the server).
// --dnssec: every zone signed (one ECDSA P-256 CSK each) and every query with DO, so the figure is
// the signed path's (RRSIGs from the signature cache, compact denial); compare with the same
// --domains without it.
// --fresh: instead, names that exist nowhere, each asked once (100,000; with --dnssec each costs a
// signature): the random-subdomain case.
// --stats-compare: then the same slices with and without them, in alternating pairs (so that the
// neighbours' load on a shared machine falls on both alike), and the difference.
// Bytes: the growth of heapUsed over passes during which no GC ran (what the pass allocated).
import { writeDataset, zones, relativeData, TYPE_CODES } from './dataset.js';
import { buildSnapshot, type ZoneSource } from '../src/snapshot/build.js';
import type { DomainRow } from '../src/snapshot/domain.js';
import { handleQuery, type QueryContext } from '../src/server/handle-query.js';
import { ResponseCache } from '../src/server/response-cache.js';
import { QueryStats } from '../src/server/query-stats.js';
import { DomainCounts } from '../src/server/domain-counts.js';
import { loadConfig } from '../src/config.js';
import { SignatureCache } from '../src/dnssec/sign.js';
import { generateKey, privateKeyOf, dnskeyRdata, keyTag, CSK_FLAGS, type SigningKey } from '../src/dnssec/keys.js';
import { buildQuery } from '../test/helpers/dig.js';
import { readFile } from 'node:fs/promises';
import { PerformanceObserver } from 'node:perf_hooks';

const arg = (n: string) => { const i = process.argv.indexOf(n); return i >= 0 ? process.argv[i + 1] : undefined; };
const domains = Number(arg('--domains') ?? 2000);
const dnssec = process.argv.includes('--dnssec');
const opts = { domains, delegations: 5000, queries: 200_000, seed: 1 };
const rows: DomainRow[] = [];
const sources = new Map<number, ZoneSource>();
let id = 0;
for (const z of zones(opts)) {
  id++;
  sources.set(id, { records: z.records.map((r) => ({ owner: r.owner, type: TYPE_CODES[r.type], ttl: r.ttl, rdata: relativeData(r, z.apex) })), schedules: [] });
  rows.push({ id, name: z.apex, zone_id: id, delegation_only: z.delegationOnly, serial_offset: 0, pzc_zone_id: null, pzc_at: null,
    dnssec: dnssec ? { keys: [signingKey(id)], cdsDelete: false } : undefined });
}
const snap = buildSnapshot(rows, sources);

function signingKey(id: number): SigningKey {
  const k = generateKey(13);
  const publicKey = k.publicKey;
  return { id, algorithm: 13, flags: CSK_FLAGS, publicKey, tag: keyTag(dnskeyRdata({ flags: CSK_FLAGS, algorithm: 13, publicKey })), state: 'active', privateKey: privateKeyOf(k.privateDer) };
}
const data = await writeDataset('/tmp/glidepath-handler-cost', opts, false);
const fresh = process.argv.includes('--fresh');
const lines = fresh
  ? Array.from({ length: 100_000 }, (_, i) => `fresh-${i}.cust${1 + (i * 7919) % domains}.test. A`)
  : (await readFile(data.queryFile, 'utf8')).split('\n').filter(Boolean);
const packets = lines.map((l, i) => {
  const [name, type] = l.split(' ');
  return buildQuery(name, type, { id: i & 0xffff, edns: 1232, do: dnssec }); // dnsperf sends EDNS (-e is not set: see below)
});
const cache = process.argv.includes('--no-cache') ? undefined : new ResponseCache();
const stats = new QueryStats();
const signatures = dnssec ? new SignatureCache() : undefined;
/** Every context from this one literal: one hidden class, as the server's one context per process
 *  (contexts of different shapes would make the handler polymorphic and the comparison unfair). */
const context = (domainCounts: DomainCounts | undefined): QueryContext => ({
  snapshot: () => snap, maxUdp: 1232, now: () => Date.now(), stats, cache, domainCounts, signatures,
});
const ctx = context(loadConfig().stats.enabled ? new DomainCounts() : undefined);
let responseBytes = 0;
if (fresh) {
  // Each name once, timed as one pass (after a warm-up on other names for the JIT).
  for (let i = 0; i < 5000; i++) handleQuery(buildQuery(`warm-${i}.cust1.test.`, 'A', { edns: 1232, do: dnssec }), false, ctx);
  const c0 = process.cpuUsage();
  for (const p of packets) responseBytes += handleQuery(p, false, ctx)?.length ?? 0;
  const c = process.cpuUsage(c0);
  console.log(JSON.stringify({ domains, fresh: packets.length, dnssec, avgResponseBytes: Math.round(responseBytes / packets.length),
    nsPerQuery: Math.round((c.user + c.system) * 1000 / packets.length), ...(signatures ? { signs: signatures.signs } : {}) }));
  process.exit(0);
}
for (const p of packets) responseBytes += handleQuery(p, false, ctx)?.length ?? 0; // warm-up: JIT and the cache
// Passes of 5,000 queries; one during which a GC ran is not counted (heapUsed fell or jumped).
let gcs = 0;
new PerformanceObserver((l) => { gcs += l.getEntries().length; }).observe({ entryTypes: ['gc'] });
const tick = () => new Promise((r) => setImmediate(r));
let cpuNs = 0, bytes = 0, counted = 0, n = 0;
for (let pass = 0; pass < 200; pass++) {
  const slice = packets.slice((pass % 40) * 5000, (pass % 40 + 1) * 5000);
  await tick();
  const g0 = gcs;
  const h0 = process.memoryUsage().heapUsed;
  const c0 = process.cpuUsage();
  for (const p of slice) handleQuery(p, false, ctx);
  const c = process.cpuUsage(c0);
  const h1 = process.memoryUsage().heapUsed;
  cpuNs += (c.user + c.system) * 1000;
  n += slice.length;
  await tick();
  if (gcs === g0 && h1 >= h0) { bytes += h1 - h0; counted += slice.length; }
  // The flusher's share, as in the server (every few seconds): drained here, off the clock.
  if (pass % 20 === 19) ctx.domainCounts?.drain();
}
const out = { avgResponseBytes: Math.round(responseBytes / packets.length), nsPerQuery: Math.round(cpuNs / n), bytesPerQuery: counted ? Math.round(bytes / counted) : -1, passesWithoutGc: counted / 5000 };
console.log(JSON.stringify({ domains, queries: packets.length, cache: ctx.cache ? 'on' : 'off', stats: ctx.domainCounts ? 'on' : 'off', dnssec,
  ...(signatures ? { signs: signatures.signs, signatureHits: signatures.hits } : {}), ...(cache ? { cacheHits: cache.hits, cacheMisses: cache.misses } : {}), ...out }));

if (process.argv.includes('--stats-compare')) {
  // Same snapshot and cache; only the per-domain counters differ. Pairs run in alternating order.
  const on = context(new DomainCounts());
  const off = context(undefined);
  const cpu = { on: 0, off: 0 };
  const timed = (c: QueryContext, slice: Buffer[]) => {
    const c0 = process.cpuUsage();
    for (const p of slice) handleQuery(p, false, c);
    const d = process.cpuUsage(c0);
    return (d.user + d.system) * 1000;
  };
  let q = 0;
  for (let pair = 0; pair < 400; pair++) {
    const slice = packets.slice((pair % 40) * 5000, (pair % 40 + 1) * 5000);
    await tick();
    if (pair % 2) { cpu.off += timed(off, slice); cpu.on += timed(on, slice); } else { cpu.on += timed(on, slice); cpu.off += timed(off, slice); }
    q += slice.length;
    if (pair % 20 === 19) on.domainCounts!.drain();
  }
  const nsOn = cpu.on / q;
  const nsOff = cpu.off / q;
  console.log(JSON.stringify({ compare: 'GLIDEPATH_STATS on vs off, alternating pairs', queries: q, nsPerQueryOn: Math.round(nsOn), nsPerQueryOff: Math.round(nsOff),
    overheadNs: Math.round(nsOn - nsOff), overheadPct: Math.round((nsOn / nsOff - 1) * 1000) / 10 }));
}
