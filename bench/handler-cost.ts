// CPU time and bytes allocated per query in the handler alone (decode, cache, resolve, encode),
// without sockets: the bench data set and query file, in process.
//   npm run -s build && node --max-semi-space-size=64 dist/bench/handler-cost.js [--domains N] [--no-cache]
// Bytes: the growth of heapUsed over passes during which no GC ran (what the pass allocated).
import { writeDataset, zones, relativeData, TYPE_CODES } from './dataset.js';
import { buildSnapshot, type ZoneSource } from '../src/snapshot/build.js';
import type { DomainRow } from '../src/snapshot/domain.js';
import { handleQuery, type QueryContext } from '../src/server/handle-query.js';
import { ResponseCache } from '../src/server/response-cache.js';
import { QueryStats } from '../src/server/query-stats.js';
import { buildQuery } from '../test/helpers/dig.js';
import { readFile } from 'node:fs/promises';
import { PerformanceObserver } from 'node:perf_hooks';

const arg = (n: string) => { const i = process.argv.indexOf(n); return i >= 0 ? process.argv[i + 1] : undefined; };
const domains = Number(arg('--domains') ?? 2000);
const opts = { domains, delegations: 5000, queries: 200_000, seed: 1 };
const rows: DomainRow[] = [];
const sources = new Map<number, ZoneSource>();
let id = 0;
for (const z of zones(opts)) {
  id++;
  sources.set(id, { records: z.records.map((r) => ({ owner: r.owner, type: TYPE_CODES[r.type], ttl: r.ttl, rdata: relativeData(r, z.apex) })), schedules: [] });
  rows.push({ id, name: z.apex, zone_id: id, delegation_only: z.delegationOnly, serial_offset: 0, pzc_zone_id: null, pzc_at: null });
}
const snap = buildSnapshot(rows, sources);
const data = await writeDataset('/tmp/glidepath-handler-cost', opts, false);
const packets = (await readFile(data.queryFile, 'utf8')).split('\n').filter(Boolean).map((l, i) => {
  const [name, type] = l.split(' ');
  return buildQuery(name, type, { id: i & 0xffff, edns: 1232 }); // dnsperf sends EDNS (-e is not set: see below)
});
const ctx: QueryContext = {
  snapshot: () => snap, maxUdp: 1232, now: () => Date.now(), stats: new QueryStats(),
  cache: process.argv.includes('--no-cache') ? undefined : new ResponseCache(),
};
for (const p of packets) handleQuery(p, false, ctx); // warm-up: JIT and the cache
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
}
const out = { nsPerQuery: Math.round(cpuNs / n), bytesPerQuery: counted ? Math.round(bytes / counted) : -1, passesWithoutGc: counted / 5000 };
console.log(JSON.stringify({ domains, queries: packets.length, cache: ctx.cache ? 'on' : 'off', ...out }));
