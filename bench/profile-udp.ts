// Where a Glidepath UDP answer's time goes: the bench data set in process (no database), one UDP
// listener (the batched native addon unless GLIDEPATH_UDP_IO=dgram), dnsperf for --seconds after a
// 2 s warm-up. Prints this process's CPU time per answered query, user (JavaScript, libuv) and
// system (the kernel: recvmsg/sendmsg, or recvmmsg/sendmmsg), and with --profile the V8 CPU profile
// of the measured run (node:inspector, this process) summarised by self time. `--qps N` paces
// dnsperf at N queries/s (else unthrottled):
//   npm run -s build && node dist/bench/profile-udp.js [--seconds 5] [--qps N] [--profile]
import { Session } from 'node:inspector/promises';
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
const paced = arg('--qps') === undefined ? undefined : Number(arg('--qps'));
const profile = process.argv.includes('--profile');
const session = new Session();
if (profile) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
const cpu0 = process.cpuUsage();
const r = await load({ port: udp.port, queryFile: data.queryFile, seconds, qps: paced, perQuery: false });
const cpu = process.cpuUsage(cpu0);
const per = (us: number) => Number((us / Math.max(1, r.completed)).toFixed(2));
console.log(JSON.stringify({ io: udp.io, qps: Math.round(r.qps), lost: r.lost, userUsPerQuery: per(cpu.user), systemUsPerQuery: per(cpu.system),
  busy: Number(((cpu.user + cpu.system) / (r.seconds * 1e6)).toFixed(2)) }));
if (profile) {
  interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number }
  const { profile: p } = await session.post('Profiler.stop') as unknown as { profile: { nodes: Node[] } };
  const self = new Map<string, number>();
  let total = 0;
  for (const n of p.nodes) {
    const k = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(dist|node:)/, '$1')}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    self.set(k, (self.get(k) ?? 0) + n.hitCount);
    total += n.hitCount;
  }
  console.log(`top self time over the measured run (${total} samples):`);
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
  session.disconnect();
}
await udp.close();
process.exit(0);
