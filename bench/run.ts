// `npm run bench`: one run, every server on the same data and the same query file, one after the
// other: load, readiness, memory, max QPS, latency at 50 % of that, and (Glidepath) edit-to-visible.
// Prints the table and writes bench/RESULTS.md. Options:
//   --domains N (2000)  --delegations N (5000)  --seconds S (10)  --peers glidepath,pdns,nsd,knot
//   --threads N (2)     --scale N (0: skip; e.g. 100000 for the million-record load check)
//   --edits N (100)     --out DIR (bench/out)   --results FILE (bench/RESULTS.md)
import { mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import os from 'node:os';
import { writeDataset, probeApexes, type DatasetOptions } from './dataset.js';
import { startPostgres, type BenchPostgres } from './pg.js';
import { load, dnsperf, DNSPERF_ARGS } from './load.js';
import { freePort, memoryOf, waitReady, stopAll, query, run, type Proc, type DnsAnswer } from './util.js';
import { render, mainTable, ratios, type ServerResult, type RunInfo } from './report.js';
import type { Peer, BenchContext } from './peers/types.js';
import { glidepath, glidepathLog, editToVisible } from './peers/glidepath.js';
import { pdns } from './peers/pdns.js';
import { nsd } from './peers/nsd.js';
import { knot } from './peers/knot.js';

const PEERS: Record<string, Peer> = { glidepath, pdns, nsd, knot };

function options(argv: string[]) {
  const o = { domains: 2000, delegations: 5000, seconds: 10, peers: 'glidepath,pdns,nsd,knot', threads: 2, scale: 0, edits: 100, out: 'bench/out', results: 'bench/RESULTS.md' };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in o)) throw new Error(`unknown option ${argv[i]} (see the top of bench/run.ts)`);
    const v = argv[++i];
    if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
    (o as Record<string, unknown>)[k] = typeof (o as Record<string, unknown>)[k] === 'number' ? Number(v) : v;
  }
  return o;
}

/** The answers a server gives to a sample of the query file, for a sanity comparison with Glidepath. */
async function sample(port: number, queries: Array<[string, string]>): Promise<Array<DnsAnswer | undefined>> {
  const out: Array<DnsAnswer | undefined> = [];
  for (const [n, t] of queries) out.push(await query(port, n, t, 500));
  return out;
}
const norm = (a: DnsAnswer | undefined) => (a ? `${a.rcode}/${a.aa ? 'aa' : '-'}/${a.answers.map((r) => `${r.type} ${r.data}`.toLowerCase()).sort().join(',')}` : 'no answer');

async function measure(peer: Peer, ctx: BenchContext, seconds: number, edits: number, probes: Array<[string, string]>,
  reference: Array<DnsAnswer | undefined> | undefined): Promise<{ result: ServerResult; answers?: Array<DnsAnswer | undefined> }> {
  const d = await peer.detect();
  const result: ServerResult = { name: peer.name, version: d.ok ? d.version : '–', setup: peer.setup(ctx) };
  let proc: Proc | undefined;
  try {
    const t0 = performance.now();
    await peer.prepare(ctx);
    result.prepareMs = performance.now() - t0;
    const port = await freePort();
    proc = await peer.start(ctx, port);
    result.loadMs = await waitReady(proc, port, probeApexes(ctx.opts), 300_000);
    if (peer === glidepath) result.snapshotMs = glidepathLog.snapshotMs;
    result.memReady = await memoryOf(proc.pid);
    const answers = await sample(port, probes);
    if (reference) {
      const differ: string[] = [];
      answers.forEach((a, i) => { if (norm(a) !== norm(reference[i])) differ.push(`${probes[i].join(' ')}: ${norm(a)} vs ${norm(reference[i])}`); });
      result.mismatches = { checked: probes.length, differ };
    }
    ctx.log(`${peer.name}: ready in ${(result.loadMs / 1000).toFixed(2)} s; max load for ${seconds} s`);
    result.max = await load({ port, queryFile: ctx.data.queryFile, seconds, perQuery: false });
    const half = Math.max(1000, Math.round(result.max.qps / 2));
    ctx.log(`${peer.name}: ${Math.round(result.max.qps)} qps; latency at ${half} qps`);
    result.paced = await load({ port, queryFile: ctx.data.queryFile, seconds, qps: half, perQuery: true });
    if (peer === glidepath && edits > 0) result.edits = await editToVisible(ctx, port, edits);
    result.memAfter = await memoryOf(proc.pid);
    return { result, answers };
  } catch (err) {
    result.error = (err as Error).message;
    ctx.log(`${peer.name}: failed: ${result.error.split('\n')[0]}`);
    return { result };
  } finally {
    await proc?.stop();
  }
}

async function scaleCheck(pg: BenchPostgres, workDir: string, domains: number, log: (l: string) => void): Promise<string[]> {
  const opts: DatasetOptions = { domains, delegations: 5000, queries: 1000, seed: 7 };
  const dir = join(workDir, `scale-${domains}`);
  const data = await writeDataset(dir, opts);
  const ctx: BenchContext = { workDir: dir, data, opts, threads: 1, pg, log };
  log(`scale: ${domains} domains, ${data.records} records`);
  const t0 = performance.now();
  await glidepath.prepare(ctx);
  const prepareMs = performance.now() - t0;
  const port = await freePort();
  const proc = await glidepath.start(ctx, port);
  try {
    const readyMs = await waitReady(proc, port, probeApexes(opts), 600_000);
    const mem = await memoryOf(proc.pid);
    const hwm = Number(/^VmHWM:\s+(\d+)/m.exec(await readFile(`/proc/${proc.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    return [
      `Scale check: ${domains.toLocaleString('en-US')} domains, ${data.records.toLocaleString('en-US')} records (Glidepath only).`,
      `Rows into PostgreSQL ${(prepareMs / 1000).toFixed(1)} s (bulk insert, not part of load time); start to every probe answered ${(readyMs / 1000).toFixed(1)} s` +
        (glidepathLog.snapshotMs !== undefined ? ` (snapshot built in ${(glidepathLog.snapshotMs / 1000).toFixed(1)} s)` : '') +
        `; memory ready: RSS ${mem.rssMiB.toFixed(0)} MiB, peak (VmHWM) ${hwm.toFixed(0)} MiB.`,
    ];
  } finally {
    await proc.stop();
  }
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const started = performance.now();
  const log = (l: string) => console.error(`[bench] ${l}`);
  const workDir = resolve(o.out);
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  const opts: DatasetOptions = { domains: o.domains, delegations: o.delegations, queries: 200_000, seed: 1 };
  const data = await writeDataset(join(workDir, 'data'), opts);
  log(`data: ${o.domains} domains + registry with ${o.delegations} delegations, ${data.records} records, ${opts.queries} queries`);
  const pg = await startPostgres(join(workDir, 'pg'));
  const ctx: BenchContext = { workDir, data, opts, threads: o.threads, pg, log };
  const lines = (await readFile(data.queryFile, 'utf8')).split('\n').filter(Boolean);
  const probes = Array.from({ length: 60 }, (_, i) => lines[(i * 997) % lines.length].split(' ') as [string, string]);

  const results: ServerResult[] = [];
  const missing: string[] = [];
  let reference: Array<DnsAnswer | undefined> | undefined;
  try {
    for (const name of o.peers.split(',').map((s) => s.trim()).filter(Boolean)) {
      const peer = PEERS[name];
      if (!peer) throw new Error(`unknown peer "${name}" (glidepath, pdns, nsd, knot)`);
      const d = await peer.detect();
      if (!d.ok) { missing.push(`${peer.name} (${d.why})`); continue; }
      const { result, answers } = await measure(peer, ctx, o.seconds, o.edits, probes, reference);
      if (peer === glidepath) reference = answers;
      results.push(result);
    }
    const scale = o.scale > 0 ? await scaleCheck(pg, workDir, o.scale, log) : [];
    const tool = await dnsperf();
    const info: RunInfo = {
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      date: new Date().toISOString(),
      machine: [
        `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`,
        `Node ${process.versions.node}; load generator and servers share the machine`,
      ],
      dataset: [
        `${o.domains.toLocaleString('en-US')} customer domains (about 12 records each) + a delegation-only registry with ${o.delegations.toLocaleString('en-US')} delegations and glue: ${data.records.toLocaleString('en-US')} records`,
        `Query mix (${opts.queries.toLocaleString('en-US')} lines, replayed): ${Object.entries(data.queryCounts).map(([k, v]) => `${k} ${((100 * v) / opts.queries).toFixed(0)} %`).join(', ')}`,
        ...scale,
      ],
      loadTool: tool
        ? `${(await run(tool, ['-h'])).stderr.split('\n').find((l) => /version/i.test(l))?.trim() ?? 'dnsperf'} ${DNSPERF_ARGS.join(' ')}, ${o.seconds} s per run; max = unthrottled, latency at -Q half of max`
        : 'the node generator in bench/loadgen.ts (dnsperf not installed)',
      missing,
      notes: [
        'Load time: from process start to every probe domain answering its SOA authoritatively.',
        'Edit → visible: an UPDATE committed over SQL until Glidepath answers the new TXT over UDP.',
        'PowerDNS answers from PostgreSQL through its packet and query caches; NSD and Knot from memory.',
      ],
      totalSeconds: (performance.now() - started) / 1000,
    };
    const md = render(info, results);
    await writeFile(resolve(o.results), md);
    console.log(mainTable(results));
    for (const r of ratios(results)) console.log(r);
    if (missing.length) console.log(`Not run: ${missing.join('; ')}`);
    for (const s of scale) console.log(s);
    console.log(`Written to ${o.results}`);
  } finally {
    await stopAll();
    await pg.stop();
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => { void stopAll().finally(() => process.exit(130)); });
}
main().catch(async (err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  await stopAll();
  process.exit(1);
});
