// Where a Glidepath UDP answer's time goes: the bench data set in process (no database), one UDP
// listener (the batched native addon unless GLIDEPATH_UDP_IO=dgram), dnsperf for --seconds, then
// the CPU profile summarised by self time (run under node --cpu-prof to keep the .cpuprofile):
//   npm run -s build && node --cpu-prof --cpu-prof-dir=bench/out/prof dist/bench/profile-udp.js [--seconds 5]
import { readFile, readdir } from 'node:fs/promises';
import { zones, relativeData, TYPE_CODES, writeDataset } from './dataset.js';
import { buildSnapshot, type ZoneSource } from '../src/snapshot/build.js';
import type { DomainRow } from '../src/snapshot/domain.js';
import type { QueryContext } from '../src/server/handle-query.js';
import { ResponseCache } from '../src/server/response-cache.js';
import { QueryStats } from '../src/server/query-stats.js';
import { listenUdp } from '../src/server/udp.js';
import { createLogger } from '../src/log.js';
import { load } from './load.js';

const arg = (n: string) => { const i = process.argv.indexOf(n); return i >= 0 ? process.argv[i + 1] : undefined; };
const seconds = Number(arg('--seconds') ?? 5);
const opts = { domains: 500, delegations: 1000, queries: 50_000, seed: 1 };
const rows: DomainRow[] = [];
const sources = new Map<number, ZoneSource>();
let id = 0;
for (const z of zones(opts)) {
  id++;
  sources.set(id, { records: z.records.map((r) => ({ owner: r.owner, type: TYPE_CODES[r.type], ttl: r.ttl, rdata: relativeData(r, z.apex) })), schedules: [] });
  rows.push({ id, name: z.apex, zone_id: id, delegation_only: z.delegationOnly, serial_offset: 0, pzc_zone_id: null, pzc_at: null });
}
const snap = buildSnapshot(rows, sources);
const data = await writeDataset('/tmp/glidepath-profile-udp', opts, false);
const ctx: QueryContext = { snapshot: () => snap, maxUdp: 1232, now: () => Date.now(), stats: new QueryStats(), cache: new ResponseCache() };
const io = (process.env.GLIDEPATH_UDP_IO as 'dgram' | undefined) ?? 'auto';
const udp = await listenUdp({ host: '127.0.0.1', port: 0 }, ctx, createLogger('warn'), io);
await load({ port: udp.port, queryFile: data.queryFile, seconds: 2, perQuery: false });
const r = await load({ port: udp.port, queryFile: data.queryFile, seconds, perQuery: false });
console.log(JSON.stringify({ io: udp.io, qps: Math.round(r.qps), lost: r.lost }));
await udp.close();
// With --cpu-prof the profile is written at exit; summarise the newest one left by an earlier run.
const dir = process.execArgv.find((a) => a.startsWith('--cpu-prof-dir='))?.split('=')[1];
if (dir) {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  if (files.length) {
    interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number }
    const p = JSON.parse(await readFile(`${dir}/${files[files.length - 1]}`, 'utf8')) as { nodes: Node[] };
    const self = new Map<string, number>();
    let total = 0;
    for (const n of p.nodes) {
      const k = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(dist|node:)/, '$1')}:${n.callFrame.lineNumber + 1}`;
      self.set(k, (self.get(k) ?? 0) + n.hitCount);
      total += n.hitCount;
    }
    console.log(`previous profile ${files[files.length - 1]}: top self time`);
    for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
  }
}
process.exit(0);
