// `npm run bench`: one run, every server on the same data and the same query file, one after the
// other: load, readiness, memory, max QPS, latency at 50 % of that, and (Glidepath) edit-to-visible.
// Prints the table and writes bench/RESULTS.md. Options (npm run bench -- --domains 500 ...):
//   --domains N (2000)   --delegations N (5000)   --queries N (200000)   --seconds S (10)
//   --peers glidepath,floor,pdns,nsd,knot (all)        --threads N (2: workers per peer where configurable)
//   --scale [N]          adds the Glidepath load/memory check at N domains (100000 if N is left out)
//   --edits N (100)      --warmup S (3: unthrottled load before measuring, not reported)
//   --repeat N (3: max-load runs per server; the median is reported, with the range)
//   --dnsperf "ARGS" (-c 8 -T 2 -q 500 -t 2: dnsperf's clients, threads, outstanding, timeout
//                     for the unthrottled runs)   --dnsperf-paced "ARGS" (-c 8 -T 1 -q 500 -t 2: at 50 %)
//   --out DIR (bench/out)  --results FILE (bench/RESULTS.md)
//   --dnssec             the DNSSEC run instead (bench/dnssec.ts): every zone signed, the query file
//                        with and without the DO bit, Glidepath, Knot and PowerDNS (when installed);
//                        bounded: defaults --domains 200 --delegations 1000 --seconds 5, each mode
//                        warmed by four passes through the file (--warmup 0: none); results in bench/DNSSEC.md
// DATABASE_URL, when set, is used instead of the embedded PostgreSQL (databases glidepath_bench and
// pdns are dropped and created in it).
import { mkdir, rm, writeFile, readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import os from 'node:os';
import { writeDataset, probeApexes, type DatasetOptions } from './dataset.js';
import { startPostgres, type BenchPostgres } from './pg.js';
import { load, dnsperf, setDnsperfArgs, DNSPERF_ARGS, DNSPERF_PACED_ARGS, type LoadResult } from './load.js';
import { freePort, memoryOf, waitReady, waitAnswering, stopAll, onCleanup, query, run, withCpu, type Proc, type DnsAnswer, type CpuUse } from './util.js';
import { render, mainTable, ratios, missingLine, scaleTable, type ServerResult, type RunInfo, type ScaleResult } from './report.js';
import type { Peer, BenchContext } from './peers/types.js';
import { glidepath, glidepathLog, editToVisible, sharedEditToVisible, listingPages, apiListingPages, sharedDomains, glidepathDomains } from './peers/glidepath.js';
import { pdns } from './peers/pdns.js';
import { nsd } from './peers/nsd.js';
import { knot } from './peers/knot.js';
import { floor } from './peers/floor.js';
import { dnssecRun, dnssecTable, dnssecRatios } from './dnssec.js';

const PEERS: Record<string, Peer> = { glidepath, floor, pdns, nsd, knot };
const DEFAULT_SCALE = 100_000;
/** Pages of each listing asked over HTTP at scale: p99 is then the sixth slowest (nearest rank), not one stall. */
const API_PAGES = 500;

interface Options {
  domains: number; delegations: number; queries: number; seconds: number; peers: string; threads: number;
  scale: number; edits: number; warmup: number; repeat: number; dnsperf: string; dnsperfPaced: string; out: string; results: string;
  dnssec: boolean;
  /** 1: keep the PostgreSQL of the last run and its scale database when it holds --scale domains
   *  (13 million rows take 20 minutes to write on a busy machine); the peer comparison is skipped,
   *  as it would overwrite that database. */
  scaleReuse: number;
}

function options(argv: string[]): Options {
  const o: Options = {
    domains: 2000, delegations: 5000, queries: 200_000, seconds: 10, peers: 'glidepath,floor,pdns,nsd,knot', threads: 2,
    scale: 0, edits: 100, warmup: 3, repeat: 3, dnsperf: DNSPERF_ARGS.join(' '), dnsperfPaced: DNSPERF_PACED_ARGS.join(' '), out: 'bench/out', results: 'bench/RESULTS.md',
    dnssec: false, scaleReuse: 0,
  };
  const given = new Set<string>();
  const rec = o as unknown as Record<string, unknown>;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log('npm run bench -- [--domains N] [--delegations N] [--queries N] [--seconds S] [--peers glidepath,floor,pdns,nsd,knot]\n' +
        '                   [--threads N] [--scale [N]] [--edits N] [--warmup S] [--repeat N] [--dnsperf "ARGS"] [--dnsperf-paced "ARGS"] [--out DIR] [--results FILE]\n' +
        '                   [--dnssec] [--scale-reuse 1]   (see bench/README.md)');
      process.exit(0);
    }
    const k = arg.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!arg.startsWith('--') || !(k in o)) throw new Error(`unknown option ${arg} (see bench/README.md or --help)`);
    given.add(k);
    if (k === 'dnssec') { o.dnssec = true; continue; }
    let v = argv[i + 1];
    if (k === 'scale' && (v === undefined || v.startsWith('--'))) v = String(DEFAULT_SCALE);
    else i++;
    if (v === undefined) throw new Error(`${arg} needs a value`);
    if (typeof rec[k] === 'number') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${arg} needs a whole number, not "${v}"`);
      rec[k] = n;
    } else rec[k] = v;
  }
  if (o.dnssec) {
    // Bounded by default: signing every zone at load (Knot, PowerDNS) takes time per zone.
    const small: Partial<Options> = { domains: 200, delegations: 1000, seconds: 5, warmup: 2, results: 'bench/DNSSEC.md' };
    for (const [k, v] of Object.entries(small)) if (!given.has(k)) rec[k] = v;
  }
  if (o.domains < 1) throw new Error('--domains must be at least 1');
  if (o.seconds < 1) throw new Error('--seconds must be at least 1');
  if (o.threads < 1) throw new Error('--threads must be at least 1');
  if (o.queries < 1) throw new Error('--queries must be at least 1');
  if (o.repeat < 1) throw new Error('--repeat must be at least 1');
  setDnsperfArgs(DNSPERF_ARGS, '--dnsperf', o.dnsperf);
  setDnsperfArgs(DNSPERF_PACED_ARGS, '--dnsperf-paced', o.dnsperfPaced);
  return o;
}

/** Clears what an earlier run left in the scratch directory (only the entries this script makes). */
async function clearWorkDir(dir: string, keepPg = false): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const e of await readdir(dir)) {
    if (e === 'pg' && keepPg) continue;
    if (['data', 'pg', 'pdns', 'nsd', 'knot'].includes(e) || e.startsWith('scale-')) await rm(join(dir, e), { recursive: true, force: true });
  }
}

/** The answers a server gives to a sample of the query file, for a sanity comparison with Glidepath. */
async function sample(port: number, queries: Array<[string, string]>): Promise<Array<DnsAnswer | undefined>> {
  const out: Array<DnsAnswer | undefined> = [];
  for (const [n, t] of queries) out.push(await query(port, n, t, 500));
  return out;
}
const norm = (a: DnsAnswer | undefined) => (a ? `${a.rcode}/${a.aa ? 'aa' : '-'}/${a.answers.map((r) => `${r.type} ${r.data}`.toLowerCase()).sort().join(',')}` : 'no answer');

async function measure(peer: Peer, ctx: BenchContext, o: Options, probes: Array<[string, string]>,
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
    result.loadMs = peer.floor ? await waitAnswering(proc, port, 30_000) : await waitReady(proc, port, probeApexes(ctx.opts), 300_000);
    if (peer === glidepath) result.snapshotMs = glidepathLog.snapshotMs;
    result.memReady = await memoryOf(proc.pid);
    const answers = peer.floor ? undefined : await sample(port, probes);
    result.floor = peer.floor;
    if (reference && answers) {
      const differ: string[] = [];
      answers.forEach((a, i) => { if (norm(a) !== norm(reference[i])) differ.push(`${probes[i].join(' ')}: ${norm(a)} vs ${norm(reference[i])}`); });
      result.mismatches = { checked: probes.length, differ };
    }
    if (o.warmup > 0) {
      ctx.log(`${peer.name}: ready in ${(result.loadMs / 1000).toFixed(2)} s; warm-up for ${o.warmup} s (not reported)`);
      await load({ port, queryFile: ctx.data.queryFile, seconds: o.warmup, perQuery: false });
    }
    const seconds = o.seconds;
    ctx.log(`${peer.name}: max load, ${o.repeat} × ${seconds} s`);
    const runs: Array<[LoadResult, CpuUse]> = [];
    for (let i = 0; i < o.repeat; i++) runs.push(await withCpu(proc.pid, () => load({ port, queryFile: ctx.data.queryFile, seconds, perQuery: false })));
    // The median run by QPS stands for the server; the others give the spread.
    runs.sort((a, b) => a[0].qps - b[0].qps);
    [result.max, result.cpuMax] = runs[Math.floor((runs.length - 1) / 2)];
    result.maxRuns = runs.map(([l]) => l);
    const half = Math.max(1, Math.round(result.max.qps / 2));
    ctx.log(`${peer.name}: ${Math.round(result.max.qps)} qps; latency at ${half} qps`);
    result.paced = await load({ port, queryFile: ctx.data.queryFile, seconds, qps: half, perQuery: true });
    if (peer === glidepath && o.edits > 0) {
      ctx.log(`${peer.name}: ${o.edits} edits`);
      result.edits = await editToVisible(ctx, port, o.edits);
    }
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

/** Polls /readyz until it reports every worker answering. */
async function allWorkersReady(ctx: BenchContext, limitMs: number): Promise<void> {
  const until = performance.now() + limitMs;
  while (performance.now() < until) {
    const r = await fetch(`http://127.0.0.1:${ctx.api!.port}/readyz`).then((x) => x.json() as Promise<{ workers?: { ready: number; wanted: number } }>, () => undefined);
    if (r?.workers && r.workers.ready >= r.workers.wanted) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`not every worker ready after ${limitMs / 1000} s`);
}

/** Glidepath alone on a large data set: rows into PostgreSQL, load time, memory, and one max-load run. */
async function scaleCheck(pg: BenchPostgres, workDir: string, o: Options, log: (l: string) => void): Promise<ScaleResult> {
  const opts: DatasetOptions = { domains: o.scale, delegations: o.delegations, queries: o.queries, seed: 7 };
  const dir = join(workDir, `scale-${o.scale}`);
  const data = await writeDataset(dir, opts, false);
  // The API on, for listing pages over HTTP (and so that the memory figures include it).
  const ctx: BenchContext = { workDir: dir, data, opts, threads: o.threads, pg, log, api: { port: await freePort(), token: 'bench-admin' } };
  const out: ScaleResult = { domains: o.scale, records: data.records };
  log(`scale: ${o.scale} domains, ${data.records} records into PostgreSQL`);
  let proc: Proc | undefined;
  try {
    const t0 = performance.now();
    if (o.scaleReuse && await glidepathDomains(ctx) >= o.scale) log(`scale: reusing the database of the last run (${o.scale} domains)`);
    else {
      await glidepath.prepare(ctx);
      out.prepareMs = performance.now() - t0;
    }
    const port = await freePort();
    log(`scale: rows in after ${((performance.now() - t0) / 1000).toFixed(1)} s; starting Glidepath`);
    proc = await glidepath.start(ctx, port);
    // 15 minutes, longer from a million domains on (13 million records load for minutes when the
    // machine is busy).
    out.loadMs = await waitReady(proc, port, probeApexes(opts), Math.max(900_000, o.scale * 2.7));
    out.snapshotMs = glidepathLog.snapshotMs;
    log(`scale: every probe answers after ${(out.loadMs / 1000).toFixed(1)} s; waiting for every worker`);
    // The workers load one after the other (cluster/primary.ts): what follows is measured with all
    // of them answering and none still loading.
    await allWorkersReady(ctx, Math.max(900_000, o.scale * 2.7));
    out.allWorkersMs = performance.now() - proc.startedAt;
    out.memReady = await memoryOf(proc.pid);
    log(`scale: every worker ready after ${(out.allWorkersMs / 1000).toFixed(1)} s, RSS ${out.memReady.treeRssMiB.toFixed(0)} MiB (all processes); max load for ${o.seconds} s`);
    // The same warm-up as the main runs (JIT, response cache): without it the one max run measured
    // a cold server.
    if (o.warmup > 0) await load({ port, queryFile: data.queryFile, seconds: o.warmup, perQuery: false });
    out.max = await load({ port, queryFile: data.queryFile, seconds: o.seconds, perQuery: false });
    if (o.edits > 0) {
      log(`scale: ${o.edits} edits`);
      out.edits = await editToVisible(ctx, port, o.edits);
      out.shared = sharedDomains(o.scale);
      if (out.shared > 0) {
        log(`scale: ${o.edits} edits to the zone shared by ${out.shared} domains`);
        out.sharedEdits = await sharedEditToVisible(ctx, port, o.edits);
      }
    }
    log('scale: 200 listing pages');
    out.listingMs = await listingPages(ctx, 200);
    log(`scale: ${API_PAGES} GET /v1/domains and ${API_PAGES} GET /v1/zones pages over HTTP`);
    const pages = await apiListingPages(ctx, API_PAGES);
    out.apiDomainPagesMs = pages.domains;
    out.apiZonePagesMs = pages.zones;
    out.memAfter = await memoryOf(proc.pid);
  } catch (err) {
    out.error = (err as Error).message;
    log(`scale: failed: ${out.error.split('\n')[0]}`);
  } finally {
    await proc?.stop();
  }
  return out;
}

async function main(): Promise<number> {
  const o = options(process.argv.slice(2));
  const started = performance.now();
  const log = (l: string) => console.error(`[bench] ${l}`);
  const workDir = resolve(o.out);
  await clearWorkDir(workDir, o.scaleReuse > 0);
  const opts: DatasetOptions = { domains: o.domains, delegations: o.delegations, queries: o.queries, seed: 1 };
  const data = await writeDataset(join(workDir, 'data'), opts);
  log(`data: ${o.domains} domains + registry with ${o.delegations} delegations, ${data.records} records, ${opts.queries} queries`);
  const pg = await startPostgres(join(workDir, 'pg'));
  onCleanup(() => pg.stop());
  log(`PostgreSQL ${pg.version}: ${pg.origin}`);
  const ctx: BenchContext = { workDir, data, opts, threads: o.threads, pg, log };
  const lines = (await readFile(data.queryFile, 'utf8')).split('\n').filter(Boolean);
  const probes = Array.from({ length: 60 }, (_, i) => lines[(i * 997) % lines.length].split(' ') as [string, string]);

  if (o.dnssec) return dnssecMain(ctx, o, started);
  const results: ServerResult[] = [];
  const missing: string[] = [];
  let reference: Array<DnsAnswer | undefined> | undefined;
  try {
    if (o.scaleReuse) log('--scale-reuse: the peer comparison is skipped (it would overwrite the scale database)');
    for (const name of o.scaleReuse ? [] : o.peers.split(',').map((s) => s.trim()).filter(Boolean)) {
      const peer = PEERS[name];
      if (!peer) throw new Error(`unknown peer "${name}" (${Object.keys(PEERS).join(', ')})`);
      const d = await peer.detect();
      if (!d.ok) { missing.push(`${peer.name}: ${d.why}`); log(`${peer.name}: not run (${d.why})`); continue; }
      const { result, answers } = await measure(peer, ctx, o, probes, reference);
      if (peer === glidepath) reference = answers;
      results.push(result);
    }
    const scale = o.scale > 0 ? await scaleCheck(pg, workDir, o, log) : undefined;
    const tool = await dnsperf();
    const toolVersion = tool ? /Version (\S+)/.exec(Object.values(await run(tool, ['-h'])).join('\n'))?.[1] : undefined;
    const cpus = os.cpus();
    const info: RunInfo = {
      command: `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`,
      date: new Date().toISOString(),
      machine: [
        `Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}`,
        `Node ${process.versions.node}; PostgreSQL ${pg.version}, ${pg.origin}`,
        `Load generator and servers share the machine (loopback only)`,
      ],
      dataset: [
        `${o.domains.toLocaleString('en-US')} customer domains (13 records each: apex SOA, 2 NS, A, AAAA, MX, TXT; www CNAME; mail and sip A; 2 SRV; a wildcard) + a delegation-only registry with ${o.delegations.toLocaleString('en-US')} delegations (2 NS + 2 glue A each): ${data.records.toLocaleString('en-US')} records`,
        `Query mix (${opts.queries.toLocaleString('en-US')} lines, replayed in a loop): ${Object.entries(data.queryCounts).map(([k, v]) => `${k} ${((100 * v) / opts.queries).toFixed(1)} %`).join(', ')}`,
      ],
      loadTool: tool
        ? `dnsperf ${toolVersion ?? ''}, the same settings for every server, ${o.seconds} s per run after a ${o.warmup} s warm-up (not reported). Max QPS: \`${DNSPERF_ARGS.join(' ')}\` unthrottled, the median of ${o.repeat} runs (range in brackets). Latency: \`${DNSPERF_PACED_ARGS.join(' ')} -Q\` at half of that median (one generator thread, to take less CPU from the server), per-query latencies from \`-v\``
        : 'the node generator in bench/loadgen.ts (dnsperf not installed; its figures are not comparable with dnsperf\'s)',
      missing,
      notes: [
        'Load time: from process start to every probe domain (32 customer apexes and the registry) answering its SOA authoritatively; for Glidepath also the snapshot build time it logs.',
        'RSS: VmRSS summed over the server\'s processes (main process and its children: Glidepath\'s primary and workers, NSD\'s forks) when ready and after the load runs (after the edits for Glidepath); shared pages count once per process, so the PSS sum is in the Servers table. VmHWM: the main process\'s peak RSS.',
        'Edit → visible: an UPDATE committed over SQL, then UDP queries back to back until Glidepath answers the new TXT.',
        'PowerDNS answers from PostgreSQL through its packet and query caches; NSD and Knot from memory.',
      ],
      totalSeconds: (performance.now() - started) / 1000,
    };
    const md = render(info, results, scale);
    await writeFile(resolve(o.results), md);
    console.log(mainTable(results));
    for (const r of ratios(results)) console.log(r);
    console.log(missingLine(missing));
    if (scale) console.log('\nScale check (Glidepath only):\n' + scaleTable(scale));
    console.log(`\nWritten to ${o.results} (${info.totalSeconds.toFixed(0)} s)`);
    const g = results.find((r) => r.name === glidepath.name);
    return g?.error || scale?.error ? 1 : 0;
  } finally {
    await stopAll();
  }
}

/** `--dnssec`: the signed comparison only, its table on stdout and in bench/DNSSEC.md. */
async function dnssecMain(ctx: BenchContext, o: Options, started: number): Promise<number> {
  const missing: string[] = [];
  try {
    const peers = o.peers.split(',').map((s) => s.trim()).filter(Boolean);
    const results = await dnssecRun(ctx, peers, o.seconds, o.warmup, missing);
    const cpus = os.cpus();
    const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`;
    const md = [
      '# DNSSEC run', '',
      `\`${command}\` on ${new Date().toISOString()}: ${cpus.length} × ${cpus[0]?.model.trim() ?? '?'}, Node ${process.versions.node}; the load generator and the servers share the machine (loopback), and other work on the machine skews the figures.`, '',
      `Data: ${o.domains} customer domains and a registry with ${o.delegations} delegations, every zone signed; the query file of the main run (${ctx.opts.queries} lines) sent by dnsperf \`${DNSPERF_ARGS.join(' ')}\` for ${o.seconds} s with \`-e\` (EDNS, DO=0: unsigned answers) and then with \`-D\` (DO=1: RRSIGs and denial proofs), each after a warm-up of four passes through the file in its mode (\`-n 4\`, at most 60 s: every worker's caches see every name); then ${o.seconds} s of a file of 400,000 unique non-existent names with DO=1, each asked once (the cost of a name never seen, which an online signer pays with a signature).`, '',
      dnssecTable(results), '',
      ...dnssecRatios(results).map((l) => `- ${l}`),
      ...missing.map((m) => `- not run: ${m}`),
      '', ...results.map((r) => `- ${r.name}: ${r.setup}`), '',
    ].join('\n');
    await writeFile(resolve(o.results), md);
    console.log(dnssecTable(results));
    for (const l of dnssecRatios(results)) console.log(l);
    if (missing.length) console.log(missingLine(missing));
    console.log(`\nWritten to ${o.results} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    return results.find((r) => r.name === 'Glidepath')?.error ? 1 : 0;
  } finally {
    await stopAll();
  }
}

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    console.error(`[bench] ${sig}: stopping every server started`);
    void stopAll().finally(() => process.exit(130));
  });
}
main().then((code) => process.exit(code), async (err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  await stopAll();
  process.exit(1);
});
