// `npm run bench:sweep`: every server at each worker count from 1 to the number of cores, driven by
// dnsperf with one and with two threads; Glidepath over both UDP I/O paths (the batched native
// addon and node:dgram) beside the Node UDP floor, NSD and Knot. Each server's best configuration
// is then measured at half its max for latency. The servers of one worker count run side by side
// and dnsperf asks them in turn, --repeat rounds, each round in a different order: on a virtual
// machine whose speed changes from second to second (CPU steal), a slow moment then falls on every
// server rather than on the one that happened to be measured in it; each figure is the median of
// its rounds. Then the flood test: one source floods one name as fast as dnsperf can while a second
// client, in another /24, asks at a modest rate; with RRL on and off. Bounded: --seconds per run
// (5), --repeat rounds (3). Writes bench/SWEEP.md.
// dnsperf acts as --clients (64) clients, each its own UDP source port: the kernel spreads a
// server's SO_REUSEPORT sockets by a hash of the source, and with 8 a run's random ports often gave
// one worker 5 or 6 of them, which moved a two-worker server's rate by a fifth from run to run.
// Options: --domains N (500) --delegations N (1000) --seconds S (5) --warmup S (2) --repeat N (3)
//          --clients N (64) --peers LIST --flood-rate N (20: GLIDEPATH_RRL_RATE in the flood test) --out DIR --results FILE
import { mkdir, writeFile, readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { join, resolve } from 'node:path';
import os from 'node:os';
import { writeDataset, probeApexes, type DatasetOptions } from './dataset.js';
import { startPostgres } from './pg.js';
import { load, dnsperf, setDnsperfArgs, DNSPERF_ARGS, DNSPERF_PACED_ARGS, type LoadResult } from './load.js';
import { freePort, waitReady, waitAnswering, stopAll, onCleanup, sleep, withCpu, type Proc, type CpuUse } from './util.js';
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
  const o = { domains: 500, delegations: 1000, seconds: 5, warmup: 2, repeat: 3, clients: 64, peers: VARIANTS.map((v) => v.key).join(','), floodRate: 20,
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

/** One run of dnsperf against one configuration. cpuUs: the server's CPU time (its whole process
 *  tree, user + system) per answered query, which on a shared virtual machine moves less than the
 *  rate does; stealPct: the machine's CPU time the hypervisor took meanwhile. */
interface Cell { workers: number; dnsperfThreads: number; round: number; qps: number; lost: number; cpuUs: number; stealPct: number }

const median = (xs: readonly number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[(s.length - 1) >> 1] : NaN; };

/** The median over rounds of one configuration (workers, dnsperf threads). */
function medianCell(cells: readonly Cell[]): Cell {
  return { ...cells[0], round: -1, qps: median(cells.map((c) => c.qps)), lost: cells.reduce((a, c) => a + c.lost, 0),
    cpuUs: median(cells.map((c) => c.cpuUs)), stealPct: median(cells.map((c) => c.stealPct)) };
}

const cpuPerAnswerUs = (r: LoadResult, cpu: CpuUse) => (1e6 * cpu.serverSeconds) / Math.max(1, r.completed);

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
  type Row = { v: Variant; cells: Cell[]; best: Record<number, Cell>; paced: Array<{ r: LoadResult; steal: number }>; error?: string };
  const table: Row[] = [];
  const wanted = o.peers.split(',');
  let preparedGlidepath = false;
  for (const v of VARIANTS.filter((x) => wanted.includes(x.key))) {
    const d = await v.peer.detect();
    if (!d.ok) { log(`${v.name}: not run (${d.why})`); continue; }
    const row: Row = { v, cells: [], best: {}, paced: [] };
    table.push(row);
    try {
      if (v.peer !== glidepath || !preparedGlidepath) await v.peer.prepare(ctx);
      if (v.peer === glidepath) preparedGlidepath = true;
    } catch (err) { fail(row, err); }
  }
  function fail(row: Row, err: unknown): void {
    row.error = (err as Error).message.split('\n')[0];
    log(`${row.v.name}: failed: ${row.error}`);
  }
  /** Starts every server not failed (workers: a count for all, or each one's own) and warms it up. */
  async function startAll(workers: (r: Row) => number): Promise<Array<{ row: Row; port: number; proc: Proc }>> {
    const up: Array<{ row: Row; port: number; proc: Proc }> = [];
    for (const row of table.filter((r) => !r.error)) {
      try {
        ctx.threads = workers(row);
        const port = await freePort();
        const proc = await startVariant(row.v, ctx, port);
        up.push({ row, port, proc });
        setDnsperfArgs(DNSPERF_ARGS, '--dnsperf', `-c ${o.clients} -T 2 -q 500 -t 2`);
        await load({ port, queryFile: data.queryFile, seconds: o.warmup, perQuery: false });
      } catch (err) { fail(row, err); }
    }
    return up;
  }
  /** Round `round` visits the servers starting from a different one each time. */
  const inTurn = <T>(xs: readonly T[], round: number) => xs.map((_, i) => xs[(i + round) % xs.length]);

  for (let workers = 1; workers <= cores; workers++) {
    const up = await startAll(() => workers);
    try {
      for (let round = 0; round < o.repeat; round++) {
        for (const t of [1, 2]) {
          for (const { row, port, proc } of inTurn(up, round)) {
            if (row.error) continue;
            try {
              setDnsperfArgs(DNSPERF_ARGS, '--dnsperf', `-c ${o.clients} -T ${t} -q 500 -t 2`);
              const [r, cpu] = await withCpu(proc.pid, () => load({ port, queryFile: data.queryFile, seconds: o.seconds, perQuery: false }));
              const cell = { workers, dnsperfThreads: t, round, qps: r.qps, lost: r.lost, cpuUs: cpuPerAnswerUs(r, cpu), stealPct: cpu.stealPct };
              row.cells.push(cell);
              log(`${row.v.name}: ${workers} worker(s), dnsperf -T ${t}, round ${round + 1}: ${Math.round(r.qps)} qps, ${r.lost} lost, ${cell.cpuUs.toFixed(1)} µs CPU / answer, steal ${cell.stealPct.toFixed(1)} %`);
            } catch (err) { fail(row, err); }
          }
        }
      }
    } finally { await Promise.all(up.map((u) => u.proc.stop())); }
  }
  for (const row of table) {
    for (const t of [1, 2]) {
      for (let w = 1; w <= cores; w++) {
        const rounds = row.cells.filter((c) => c.workers === w && c.dnsperfThreads === t);
        if (!rounds.length) continue;
        const m = medianCell(rounds);
        if (!row.best[t] || m.qps > row.best[t].qps) row.best[t] = m;
      }
    }
  }
  // Latency at half the best (one dnsperf thread), each server in its best configuration for it,
  // side by side and in turn as above; the median p99 of the rounds.
  const pacedUp = await startAll((r) => r.best[1]?.workers ?? 1);
  try {
    for (let round = 0; round < o.repeat; round++) {
      for (const { row, port, proc } of inTurn(pacedUp, round)) {
        if (row.error || !row.best[1]) continue;
        try {
          setDnsperfArgs(DNSPERF_PACED_ARGS, '--dnsperf-paced', `-c ${o.clients} -T 1 -q 500 -t 2`);
          const [r, cpu] = await withCpu(proc.pid, () => load({ port, queryFile: data.queryFile, seconds: o.seconds, qps: row.best[1].qps / 2, perQuery: true }));
          row.paced.push({ r, steal: cpu.stealPct });
          log(`${row.v.name}: at ${Math.round(row.best[1].qps / 2)} qps, round ${round + 1}: p50 ${r.p50Ms?.toFixed(2)} ms p99 ${r.p99Ms?.toFixed(2)} ms, steal ${cpu.stealPct.toFixed(1)} %`);
        } catch (err) { fail(row, err); }
      }
    }
  } finally { await Promise.all(pacedUp.map((u) => u.proc.stop())); }

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

  const nsdRow = table.find((r) => r.v.key === 'nsd');
  const lines = [
    '# Sweep: best worker count per server, one and two dnsperf threads, both Glidepath UDP paths', '',
    `Command: \`npm run bench:sweep${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}\`, ${new Date().toISOString()}.`,
    `Machine: ${cores} × ${os.cpus()[0]?.model.trim()}, Node ${process.versions.node}; loopback; dnsperf \`-c ${o.clients} -T 1|2 -q 500 -t 2\`, ${o.seconds} s per run after ${o.warmup} s warm-up. ` +
      `The servers of one worker count run side by side and are asked in turn, ${o.repeat} rounds in a different order each; every figure is the median of its rounds.`,
    `${o.domains} domains + ${o.delegations} delegations, the query mix of bench/README.md. dnsperf shares the cores with the server, so the latency tail is partly the load generator's; other work on the machine skews every figure.`, '',
    '| server | workers → qps, dnsperf -T 1 | workers → qps, -T 2 | best -T 1 | best -T 2 | ×NSD (-T 1 / -T 2) | ×NSD, round by round | server CPU µs / answer, best -T 1 / -T 2 (×NSD) | p50 / p99 at half best (-T 1); p99 of the rounds; steal |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const k = (n: number) => `${Math.round(n / 1000)}k`;
  const fixed = (xs: readonly number[], d: number) => xs.map((x) => x.toFixed(d)).join(', ');
  for (const r of table) {
    if (r.error) { lines.push(`| ${r.v.name} | failed: ${r.error} | | | | | | | |`); continue; }
    const cellsFor = (t: number) => Array.from({ length: cores }, (_, i) => r.cells.filter((c) => c.workers === i + 1 && c.dnsperfThreads === t))
      .filter((c) => c.length).map((c) => `${c[0].workers}: ${k(medianCell(c).qps)}`).join(', ');
    const best = (t: number) => (r.best[t] ? `${k(r.best[t].qps)} (${r.best[t].workers}w)` : '–');
    const x = (t: number) => { const n = nsdRow?.best[t]?.qps; return n && r.best[t] ? (r.best[t].qps / n).toFixed(2) : '–'; };
    // Round i of this server's best configuration against round i of NSD's.
    const rounds = (t: number) => {
      const mine = r.cells.filter((c) => c.dnsperfThreads === t && c.workers === r.best[t]?.workers);
      const theirs = nsdRow?.cells.filter((c) => c.dnsperfThreads === t && c.workers === nsdRow.best[t]?.workers) ?? [];
      const ratios = mine.flatMap((c) => { const n = theirs.find((m) => m.round === c.round); return n ? [c.qps / n.qps] : []; });
      return ratios.length ? `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}` : '–';
    };
    const cpu = (t: number) => (r.best[t] ? r.best[t].cpuUs.toFixed(1) : '–');
    const cpuX = [1, 2].map((t) => { const n = nsdRow?.best[t]?.cpuUs; return n && r.best[t] ? (r.best[t].cpuUs / n).toFixed(2) : '–'; }).join(' / ');
    const p99s = r.paced.map((p) => p.r.p99Ms ?? NaN);
    const lat = r.paced.length
      ? `${median(r.paced.map((p) => p.r.p50Ms ?? NaN)).toFixed(2)} / ${median(p99s).toFixed(2)} ms; ${fixed(p99s, 1)}; ${fixed(r.paced.map((p) => p.steal), 0)} %`
      : '–';
    lines.push(`| ${r.v.name} | ${cellsFor(1)} | ${cellsFor(2)} | ${best(1)} | ${best(2)} | ${x(1)} / ${x(2)} | ${rounds(1)} / ${rounds(2)} | ${cpu(1)} / ${cpu(2)} (${cpuX}) | ${lat} |`);
  }
  const steal = table.flatMap((r) => r.cells.map((c) => c.stealPct));
  if (steal.length) {
    lines.push('', `CPU steal (the hypervisor's share of this machine's CPU time) during the throughput runs: median ${median(steal).toFixed(1)} %, ${Math.min(...steal).toFixed(1)} to ${Math.max(...steal).toFixed(1)} %. ` +
      'Server CPU per answer is the process tree\'s user + system time over the answers dnsperf counted; it moves less than the rate with what else runs beside the server.');
  }
  lines.push('', `## Flood test (Glidepath, ${Math.min(2, cores)} workers, batched UDP where built; GLIDEPATH_RRL_RATE=${o.floodRate}, slip 2)`, '',
    `One source (127.0.0.1) floods \`cust1.test A\` with dnsperf (\`-c 4 -T 1 -q 5000 -t 1\`) for ${o.seconds * 2} s while a client in another /24 (127.0.1.1) asks 100 queries/s from the query file.`, '',
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
