// Memory and time of the in-memory snapshot alone, without PostgreSQL or a server process: the bench
// data set's zones as the rows the store would return, built into a Snapshot, then the heap after a
// full GC (source rows released). Also times applyDelta of one changed zone (the journal catch-up).
//   npm run -s build && node --expose-gc dist/bench/snapshot-mem.js [--domains N] [--unique] [--heap-snapshot FILE]
// --unique: no two zones share any rdata (names absolute, addresses and text per zone), the worst
// case for the interning in snapshot/zone.ts; the default is the bench data as stored.
import { writeHeapSnapshot } from 'node:v8';
import { zones, customerZone, relativeData, TYPE_CODES, type Rec } from './dataset.js';
import { buildSnapshot, applyDelta, type ZoneSource } from '../src/snapshot/build.js';
import type { DomainRow } from '../src/snapshot/domain.js';
import type { StoredRecord } from '../src/store/records.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const heap = () => { gc(); gc(); return process.memoryUsage(); };
const mib = (n: number) => (n / 2 ** 20).toFixed(1);

const domains = Number(arg('--domains') ?? 20000);
const unique = process.argv.includes('--unique');
const opts = { domains, delegations: 5000, queries: 0, seed: 1 };

/** Rdata no other zone has: absolute names, an address and a text of this zone's own. */
function uniqueData(r: Rec, zone: number, k: number): string {
  const n = zone * 16 + k;
  if (r.type === 'A') return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  if (r.type === 'TXT') return `"v=spf1 include:z${n}.example -all"`;
  return r.fields.map((f) => (typeof f === 'string' ? f : f.name)).join(' ').replace('glidepath.test.', `provider${zone}.example.`);
}

function rows(): { domains: DomainRow[]; sources: Map<number, ZoneSource>; records: number } {
  const out: DomainRow[] = [];
  const sources = new Map<number, ZoneSource>();
  let id = 0;
  let records = 0;
  for (const z of zones(opts)) {
    id++;
    const recs: StoredRecord[] = z.records.map((r, k) => ({ owner: r.owner, type: TYPE_CODES[r.type], ttl: r.ttl, rdata: unique ? uniqueData(r, id, k) : relativeData(r, z.apex) }));
    records += recs.length;
    sources.set(id, { records: recs, schedules: [] });
    out.push({ id, name: z.apex, zone_id: id, delegation_only: z.delegationOnly, serial_offset: 0, pzc_zone_id: null, pzc_at: null });
  }
  return { domains: out, sources, records };
}

const base = heap();
let built = rows();
const records = built.records;
const withRows = heap();
const t0 = performance.now();
const c0 = process.cpuUsage();
let snap = buildSnapshot(built.domains, built.sources);
const buildMs = performance.now() - t0;
const c1 = process.cpuUsage(c0);
// CPU time (user + system, every thread: GC helpers count) is steadier than wall time on a shared machine.
const buildCpuMs = (c1.user + c1.system) / 1000;
const peak = heap();
built = undefined as unknown as typeof built;
const after = heap();
const snapHeap = after.heapUsed + after.external + after.arrayBuffers - (base.heapUsed + base.external + base.arrayBuffers);

// One edit: zone 1's records again (a changed TXT), applied as the change feed would.
const z1 = customerZone(1);
const recs: StoredRecord[] = z1.records.map((r) => ({ owner: r.owner, type: TYPE_CODES[r.type], ttl: r.ttl, rdata: relativeData(r, z1.apex) }));
recs[6] = { ...recs[6], rdata: '"edited"' };
const times: number[] = [];
for (let i = 0; i < 20; i++) {
  const t = performance.now();
  snap = applyDelta(snap, {
    domains: [{ id: 1, name: z1.apex, zone_id: 1, delegation_only: false, serial_offset: i + 1, pzc_zone_id: null, pzc_at: null }],
    goneDomains: [], zones: new Map([[1, { records: recs, schedules: [] }]]), changedZones: [1],
  });
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);

console.log(JSON.stringify({
  domains, records, unique, buildMs: Math.round(buildMs), buildCpuMs: Math.round(buildCpuMs),
  rowsHeapMiB: mib(withRows.heapUsed - base.heapUsed),
  peakHeapMiB: mib(peak.heapUsed - base.heapUsed),
  snapshotHeapMiB: mib(snapHeap),
  bytesPerRecord: Math.round(snapHeap / records),
  rssMiB: mib(after.rss),
  applyDeltaMs: { p50: times[10].toFixed(2), max: times[19].toFixed(2) },
}));
const file = arg('--heap-snapshot');
if (file) { writeHeapSnapshot(file); console.log(`heap snapshot: ${file}`); }
void snap.domains.size;
