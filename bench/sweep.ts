// `npm run bench:sweep`: every server at each worker count from 1 to the number of cores, driven by
// dnsperf with one and with two threads; Glidepath over both UDP I/O paths (the batched native
// addon and node:dgram) beside the Node UDP floor, NSD and Knot. Each server's best configuration
// is then measured at half its max for latency. Then the flood test: one source floods one name as
// fast as dnsperf can while a second client, in another /24, asks at a modest rate; with RRL on and
// off. Bounded: --seconds per run (5), one run per cell. Writes bench/SWEEP.md.
// Options: --domains N (500) --delegations N (1000) --seconds S (5) --warmup S (2) --peers LIST
//          --flood-rate N (20: GLIDEPATH_RRL_RATE in the flood test) --out DIR --results FILE
import { mkdir, writeFile, readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { join, resolve } from 'node:path';
import os from 'node:os';
import { writeDataset, probeApexes, type DatasetOptions } from './dataset.js';
import { startPostgres } from './pg.js';
import { load, dnsperf, setDnsperfArgs, DNSPERF_ARGS, DNSPERF_PACED_ARGS, type LoadResult } from './load.js';
import { freePort, waitReady, waitAnswering, stopAll, onCleanup, sleep, type Proc } from './util.js';
import type { Peer, BenchContext } from './peers/types.js';
import { glidepath } from './peers/glidepath.js';
import { nsd } from './peers/nsd.js';
import { knot } from './peers/knot.js';
import { floor } from './peers/floor.js';

interface Variant { key: string; name: string; peer: Peer; env: NodeJS.ProcessEnv }
const VARIANTS: Variant[] = [
  { key: 'glidepath', name: 'Glidepath (native batched UDP)', peer: glidepath, env: { GLIDEPATH_UDP_IO: 'native', GLIDEPATH_RRL: 'off' } },
  { key: 'glidepath-dgram', name: 'Glidepath (node:dgram)', peer: glidepath, env: { GLIDEPATH_UDP_IO: 'dgram', GLIDEPATH_RRL: 'off' } },
  { key: 'floor', name: 'Node UDP floor (node:dgram echo)', peer: floor, env: {} },
  { key: 'nsd', name: 'NSD', peer: nsd, env: {} },
  { key: 'knot', name: 'Knot', peer: knot, env: {} },
];

function options(argv: string[]) {
  const o = { domains: 500, delegations: 1000, seconds: 5, warmup: 2, peers: VARIANTS.map((v) => v.key).join(','), floodRate: 20,
    out: 'bench/out', results: 'bench/SWEEP.md' };
  const rec = o as unknown as Record<string, string | number>;
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!(k in o) || argv[i + 1] === undefined) throw new Error(`unknown option or missing value: ${argv[i]}`);
    rec[k] = typeof rec[k] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
  }
  return o;
}

async function withEnv<T>(env: NodeJS.ProcessEnv, fn: () => Promise<T>): Promise<T> {
  const saved: NodeJS.ProcessEnv = {};
  for (const k of Object.keys(env)) { saved[k] = process.env[k]; process.env[k] = env[k]; }
  try { return await fn(); } finally { for (const k of Object.keys(env)) { if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k]; } }
}

async function startVariant(v: Variant, ctx: BenchContext, port: number): Promise<Proc> {
  const proc = await withEnv(v.env, () => v.peer.start(ctx, port));
  if (v.peer.floor) await waitAnswering(proc, port, 30_000);
  else await waitReady(proc, port, probeApexes(ctx.opts), 300_000);
  return proc;
}

interface Cell { workers: number; dnsperfThreads: number; qps: number; lost: number }

/** dnsperf flooding one name from 127.0.0.1: completed answers and their average size. */
function flood(port: number, file: string, seconds: number): Promise<{ completed: number; sent: number; respBytes: number }> {
  return new Promise((resolveRun, reject) => {
    void dnsperf().then((bin) => {
      if (!bin) { reject(new Error('dnsperf not installed')); return; }
      const args = ['-s', '127.0.0.1', '-a', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(seconds), '-c', '4', '-T', '1', '-q', '5000', '-t', '1'];
      const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 20) * 1000);
      child.on('close', () => {
        clearTimeout(killer);
        const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
        resolveRun({ completed: num(/Queries completed:\s+(\d+)/), sent: num(/Queries sent:\s+(\d+)/), respBytes: num(/response (\d+)/) });
      });
    }, reject);
  });
}

/** A modest client from another /24 (127.0.1.1): `rate` queries a second for `seconds`, each
 *  waiting up to 1 s; the share answered (not truncated). */
async function modest(port: number, names: string[], rate: number, seconds: number): Promise<{ sent: number; answered: number }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.1.1', () => r()));
  const pending = new Map<number, NodeJS.Timeout>();
  let answered = 0;
  sock.on('message', (m) => {
    const id = m.readUInt16BE(0);
    const t = pending.get(id);
    if (!t || (m[2] & 0x02)) return;
    clearTimeout(t); pending.delete(id); answered++;
  });
  const total = rate * seconds;
  for (let i = 0; i < total; i++) {
    const [name, type] = names[i % names.length].split(' ');
    const q = Buffer.from([i >> 8 & 0xff, i & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
      ...name.replace(/\.$/, '').split('.').flatMap((l) => [l.length, ...Buffer.from(l)]), 0, 0, type === 'AAAA' ? 28 : 1, 0, 1]);
    pending.set(i & 0xffff, setTimeout(() => pending.delete(i & 0xffff), 1000));
    sock.send(q, port, '127.0.0.1');
    await sleep(1000 / rate);
  }
  await sleep(1100);
  sock.close();
  return { sent: total, answered };
}

async function main(): Promise<number> {
  const o = options(process.argv.slice(2));
  const log = (l: string) => console.error(`[sweep] ${l}`);
  const workDir = resolve(o.out);
  await mkdir(workDir, { recursive: true });
  const opts: DatasetOptions = { domains: o.domains, delegations: o.delegations, queries: 50_000, seed: 1 };
  const data = await writeDataset(join(workDir, 'data'), opts);
  const pg = await startPostgres(join(workDir, 'pg'));
  onCleanup(() => pg.stop());
  const ctx: BenchContext = { workDir, data, opts, threads: 1, pg, log };
  const cores = os.availableParallelism();
  const table: Array<{ v: Variant; cells: Cell[]; best: Record<number, Cell>; paced?: LoadResult; error?: string }> = [];
  const wanted = o.peers.split(',');
  let preparedGlidepath = false;
  for (const v of VARIANTS.filter((x) => wanted.includes(x.key))) {
    const d = await v.peer.detect();
    if (!d.ok) { log(`${v.name}: not run (${d.why})`); continue; }
    const row: (typeof table)[number] = { v, cells: [], best: {} };
    table.push(row);
    try {
      if (v.peer !== glidepath || !preparedGlidepath) await v.peer.prepare(ctx);
      if (v.peer === glidepath) preparedGlidepath = true;
      for (let workers = 1; workers <= cores; workers++) {
        ctx.threads = workers;
        const port = await freePort();
        const proc = await startVariant(v, ctx, port);
        try {
          setDnsperfArgs(DNSPERF_ARGS, '--dnsperf', '-c 8 -T 2 -q 500 -t 2');
          await load({ port, queryFile: data.queryFile, seconds: o.warmup, perQuery: false });
          for (const t of [1, 2]) {
            setDnsperfArgs(DNSPERF_ARGS, '--dnsperf', `-c 8 -T ${t} -q 500 -t 2`);
            const r = await load({ port, queryFile: data.queryFile, seconds: o.seconds, perQuery: false });
            const cell = { workers, dnsperfThreads: t, qps: r.qps, lost: r.lost };
            row.cells.push(cell);
            if (!row.best[t] || cell.qps > row.best[t].qps) row.best[t] = cell;
            log(`${v.name}: ${workers} worker(s), dnsperf -T ${t}: ${Math.round(r.qps)} qps, ${r.lost} lost`);
          }
        } finally { await proc.stop(); }
      }
      // Latency at half the best (one dnsperf thread), in the best configuration for it.
      const best = row.best[1];
      ctx.threads = best.workers;
      const port = await freePort();
      const proc = await startVariant(v, ctx, port);
      try {
        await load({ port, queryFile: data.queryFile, seconds: o.warmup, perQuery: false });
        setDnsperfArgs(DNSPERF_PACED_ARGS, '--dnsperf-paced', '-c 8 -T 1 -q 500 -t 2');
        row.paced = await load({ port, queryFile: data.queryFile, seconds: o.seconds, qps: best.qps / 2, perQuery: true });
        log(`${v.name}: at ${Math.round(best.qps / 2)} qps p50 ${row.paced.p50Ms?.toFixed(2)} ms p99 ${row.paced.p99Ms?.toFixed(2)} ms`);
      } finally { await proc.stop(); }
    } catch (err) {
      row.error = (err as Error).message.split('\n')[0];
      log(`${v.name}: failed: ${row.error}`);
    }
  }

  // The flood test: Glidepath (native, 2 workers), RRL on and off.
  const floodFile = join(workDir, 'data', 'flood.txt');
  await writeFile(floodFile, 'cust1.test A\n');
  const names = (await readFile(data.queryFile, 'utf8')).split('\n').filter(Boolean).slice(0, 2000);
  const floods: Array<{ mode: string; flood: Awaited<ReturnType<typeof flood>>; modest: Awaited<ReturnType<typeof modest>> }> = [];
  for (const mode of ['off', 'on']) {
    ctx.threads = Math.min(2, cores);
    const v: Variant = { key: 'flood', name: 'Glidepath', peer: glidepath, env: { GLIDEPATH_UDP_IO: 'auto', GLIDEPATH_RRL: mode, GLIDEPATH_RRL_RATE: String(o.floodRate) } };
    const port = await freePort();
    const proc = await startVariant(v, ctx, port);
    try {
      const [f, m] = await Promise.all([flood(port, floodFile, o.seconds * 2), modest(port, names, 100, o.seconds * 2)]);
      floods.push({ mode, flood: f, modest: m });
      log(`flood, RRL ${mode}: flood ${f.completed} answers of ${f.sent} (${Math.round((f.completed * f.respBytes) / (o.seconds * 2))} B/s answered); modest client ${m.answered}/${m.sent}`);
    } finally { await proc.stop(); }
  }

  const ref = (key: string, t: number) => table.find((r) => r.v.key === key)?.best[t]?.qps;
  const lines = [
    '# Sweep: best worker count per server, one and two dnsperf threads, both Glidepath UDP paths', '',
    `Command: \`npm run bench:sweep${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}\`, ${new Date().toISOString()}.`,
    `Machine: ${cores} × ${os.cpus()[0]?.model.trim()}, Node ${process.versions.node}; loopback; dnsperf \`-c 8 -T 1|2 -q 500 -t 2\`, ${o.seconds} s per cell after ${o.warmup} s warm-up, one run per cell.`,
    `${o.domains} domains + ${o.delegations} delegations, the query mix of bench/README.md. dnsperf shares the cores with the server, so the latency tail is partly the load generator's; other work on the machine skews every figure.`, '',
    '| server | workers → qps, dnsperf -T 1 | workers → qps, -T 2 | best -T 1 | best -T 2 | ×NSD (-T 1 / -T 2) | p50 / p99 at half best (-T 1) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of table) {
    const cellsFor = (t: number) => r.cells.filter((c) => c.dnsperfThreads === t).map((c) => `${c.workers}: ${Math.round(c.qps / 1000)}k`).join(', ');
    const best = (t: number) => (r.best[t] ? `${Math.round(r.best[t].qps / 1000)}k (${r.best[t].workers}w)` : '–');
    const x = (t: number) => { const n = ref('nsd', t); return n && r.best[t] ? (r.best[t].qps / n).toFixed(2) : '–'; };
    const lat = r.paced ? `${r.paced.p50Ms?.toFixed(2)} / ${r.paced.p99Ms?.toFixed(2)} ms` : '–';
    lines.push(`| ${r.v.name} | ${r.error ? 'failed: ' + r.error : cellsFor(1)} | ${cellsFor(2)} | ${best(1)} | ${best(2)} | ${x(1)} / ${x(2)} | ${lat} |`);
  }
  lines.push('', `## Flood test (Glidepath, ${Math.min(2, cores)} workers, batched UDP where built; GLIDEPATH_RRL_RATE=${o.floodRate}, slip 2)`, '',
    `One source (127.0.0.1) floods \`cust1.test A\` with dnsperf (\`-c 4 -T 1 -q 200\`) for ${o.seconds * 2} s while a client in another /24 (127.0.1.1) asks 100 queries/s from the query file.`, '',
    '| RRL | flood queries sent | flood answers (incl. truncated) | flood bytes answered / s | modest client answered |', '| --- | --- | --- | --- | --- |');
  for (const f of floods) {
    lines.push(`| ${f.mode} | ${f.flood.sent} | ${f.flood.completed} | ${Math.round((f.flood.completed * f.flood.respBytes) / (o.seconds * 2))} | ${f.modest.answered}/${f.modest.sent} (${((100 * f.modest.answered) / f.modest.sent).toFixed(1)} %) |`);
  }
  // Sections written by hand (a profile, say) are kept: from the first "## Where" heading on.
  const kept = await readFile(resolve(o.results), 'utf8').then((t) => { const i = t.indexOf('\n## Where'); return i >= 0 ? t.slice(i) : ''; }, () => '');
  const md = lines.join('\n') + '\n' + kept;
  await writeFile(resolve(o.results), md);
  console.log(md);
  return 0;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { void stopAll().finally(() => process.exit(130)); });
main().then(async (code) => { await stopAll(); process.exit(code); }, async (err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  await stopAll();
  process.exit(1);
});
