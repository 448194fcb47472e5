// `npm run bench -- --dnssec`: the DNSSEC run. The same data set, every zone signed (ECDSA P-256,
// NSEC), the same query file sent twice per server with dnsperf: with EDNS and no DO bit (unsigned
// answers) and with the DO bit (-D: signed answers and denial proofs). Glidepath signs online (one
// CSK per domain, compact denial); Knot signs its zones at load (automatic signing, a CSK, NSEC);
// PowerDNS signs online from gpgsql with DNSSEC on (`pdnsutil secure-all-zones`, `rectify-all-zones`)
// when it is installed. Bounded: one run of --seconds per mode and server.
//
// Warm-up: four passes through the query file in each mode (dnsperf -n 4, at most 60 s), so that
// both figures are steady state: every server's caches hold what the file asks (Glidepath's response
// and signature caches, PowerDNS's packet and signature caches; Knot signed everything at load).
// Four, because each worker process has caches of its own and dnsperf's sockets reach one worker
// each: a name goes to a given worker about every other time, so after one pass half of each
// worker's random names were still unsigned (measured here: DO=1 at 28k, 55k, 64k, 90k queries/s
// in four 5 s runs one after another, against 103k without DO). The
// cost of names never seen before, which an online signer pays with one signature each (a
// random-subdomain flood), is its own figure: a file of unique non-existent names sent once with DO.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { BenchContext } from './peers/types.js';
import { glidepath } from './peers/glidepath.js';
import { load as pdnsLoad } from './peers/pdns.js';
import { dbUrl } from './pg.js';
import { load, dnsperf, type LoadResult } from './load.js';
import { freePort, startProc, which, run, query, sleep, waitReady, type Proc } from './util.js';
import { zones, customerApex, rng } from './dataset.js';
import { probeApexes } from './dataset.js';
import { KekHolder } from '../src/store/key-file.js';
import { addKey } from '../src/store/dnssec-keys.js';

export interface DnssecResult {
  name: string;
  setup: string;
  unsigned?: LoadResult;
  signed?: LoadResult;
  /** Unique non-existent names with DO, each asked once. */
  fresh?: LoadResult;
  error?: string;
}

interface SignedPeer {
  name: string;
  setup: string;
  missing(): Promise<string | undefined>;
  /** Loads and signs the data; returns the started server. */
  start(ctx: BenchContext, port: number): Promise<Proc>;
}

/** Until every probe apex answers its DNSKEY RRset (signing done). */
async function waitSigned(proc: Proc, port: number, apexes: string[], deadlineMs: number): Promise<void> {
  const pending = new Set(apexes);
  const end = performance.now() + deadlineMs;
  while (pending.size) {
    if (proc.exited()) throw new Error(`${proc.name} exited:\n${proc.tail()}`);
    if (performance.now() > end) throw new Error(`${proc.name}: no DNSKEY for ${[...pending][0]} within ${deadlineMs / 1000} s:\n${proc.tail()}`);
    for (const n of [...pending]) {
      const r = await query(port, n, 'DNSKEY', 300);
      if (r?.answers.some((a) => a.type === 'DNSKEY' || a.type === 'TYPE48')) pending.delete(n);
    }
    if (pending.size) await sleep(50);
  }
}

const gp: SignedPeer = {
  name: 'Glidepath',
  setup: 'online signing, one ECDSA P-256 CSK per domain, compact denial (RFC 9824); serve --workers = threads',
  async missing() { return undefined; },
  async start(ctx, port) {
    await glidepath.prepare(ctx);
    const keyFile = join(ctx.workDir, 'dnssec-kek.key');
    const kek = new KekHolder({ file: keyFile, create: true }).get();
    const c = new pg.Client({ connectionString: dbUrl(ctx.pg, 'glidepath_bench') });
    await c.connect();
    try {
      await c.query('BEGIN');
      const { rows } = await c.query<{ id: number }>('SELECT id FROM domains ORDER BY id');
      for (const r of rows) await addKey(c as unknown as Parameters<typeof addKey>[0], kek, r.id, 13);
      await c.query('COMMIT');
    } finally {
      await c.end();
    }
    // The server reads the same key file (the bench runs one server at a time).
    process.env.GLIDEPATH_KEY_FILE = keyFile;
    try { return await glidepath.start(ctx, port); } finally { delete process.env.GLIDEPATH_KEY_FILE; }
  },
};

const knot: SignedPeer = {
  name: 'Knot',
  setup: 'automatic signing at load (dnssec-signing: on; ECDSA P-256 CSK, NSEC), udp/tcp/background workers = threads',
  async missing() { return (await which('knotd')) ? undefined : 'knotd not installed (Debian package knot)'; },
  async start(ctx, port) {
    const dir = join(ctx.workDir, 'knot-dnssec');
    await mkdir(join(dir, 'db'), { recursive: true });
    const lines = [
      'server:', `    rundir: "${dir}"`, `    listen: 127.0.0.1@${port}`,
      `    udp-workers: ${ctx.threads}`, `    tcp-workers: ${ctx.threads}`, `    background-workers: ${ctx.threads}`,
      'log:', '  - target: stderr', '    any: warning',
      'database:', `    storage: "${dir}/db"`,
      'policy:', '  - id: csk', '    algorithm: ecdsap256sha256', '    single-type-signing: on', '    nsec3: off',
      'template:', '  - id: default', `    storage: "${ctx.data.zoneDir}"`, '    file: "%s.zone"',
      '    zonefile-sync: -1', '    zonefile-load: whole', '    journal-content: none',
      '    dnssec-signing: on', '    dnssec-policy: csk',
      'zone:',
      ...ctx.data.files.map((f) => `  - domain: "${f.apex}"`),
    ];
    const file = join(dir, 'knot.conf');
    await writeFile(file, lines.join('\n') + '\n');
    return startProc('Knot', (await which('knotd'))!, ['-c', file]);
  },
};

const pdns: SignedPeer = {
  name: 'PowerDNS',
  setup: 'gpgsql with DNSSEC (gpgsql-dnssec=yes), pdnsutil secure-all-zones (ECDSA P-256 CSK, NSEC) and rectify-all-zones, online signing; defaults otherwise (packet cache 20 s, signature cache)',
  async missing() {
    if (!(await which('pdns_server')) || !(await which('pdnsutil'))) return 'pdns_server/pdnsutil not installed (Debian packages pdns-server pdns-backend-pgsql)';
    return undefined;
  },
  async start(ctx, port) {
    await pdnsLoad(ctx);
    const dir = join(ctx.workDir, 'pdns-dnssec');
    await mkdir(dir, { recursive: true });
    const conf = [
      'launch=gpgsql', `gpgsql-host=${ctx.pg.host}`, `gpgsql-port=${ctx.pg.port}`, 'gpgsql-dbname=pdns',
      `gpgsql-user=${ctx.pg.user}`, `gpgsql-password=${ctx.pg.password}`, 'gpgsql-dnssec=yes',
      'default-ksk-algorithm=ecdsa256', 'default-ksk-size=256', 'default-zsk-algorithm=', 'security-poll-suffix=',
    ];
    await writeFile(join(dir, 'pdns.conf'), conf.join('\n') + '\n');
    const util = (await which('pdnsutil'))!;
    for (const args of [['secure-all-zones'], ['rectify-all-zones']]) {
      const r = await run(util, [`--config-dir=${dir}`, ...args], 600_000);
      if (r.code !== 0) throw new Error(`pdnsutil ${args[0]}: ${r.stderr.slice(-500)}`);
    }
    return startProc('PowerDNS', (await which('pdns_server'))!, [
      `--config-dir=${dir}`, `--socket-dir=${dir}`, '--daemon=no', '--guardian=no', '--disable-syslog=yes',
      '--loglevel=4', '--write-pid=no', `--local-address=127.0.0.1:${port}`,
      `--receiver-threads=${ctx.threads}`, '--reuseport=yes', '--webserver=no', '--api=no',
    ]);
  },
};

/** Passes through the query file per mode before measuring (see the top of this file). */
const WARM_PASSES = 4;

export const SIGNED_PEERS: Record<string, SignedPeer> = { glidepath: gp, knot, pdns };

/** The DNSSEC comparison; `missing` collects the peers that could not run, and why. */
export async function dnssecRun(ctx: BenchContext, peers: string[], seconds: number, warmup: number, missing: string[]): Promise<DnssecResult[]> {
  if (!(await dnsperf())) { missing.push('DNSSEC run: dnsperf not installed (its -D flag sets the DO bit)'); return []; }
  const out: DnssecResult[] = [];
  const freshFile = await writeFreshNames(ctx, 400_000);
  for (const name of peers) {
    const peer = SIGNED_PEERS[name];
    if (!peer) continue; // the floor and NSD (no online signing) have no DNSSEC run
    const why = await peer.missing();
    if (why) { missing.push(`${peer.name} (DNSSEC): ${why}`); ctx.log(`${peer.name} (DNSSEC): not run (${why})`); continue; }
    const res: DnssecResult = { name: peer.name, setup: peer.setup };
    let proc: Proc | undefined;
    try {
      const port = await freePort();
      ctx.log(`${peer.name} (DNSSEC): loading and signing ${[...zones(ctx.opts)].length} zones`);
      proc = await peer.start(ctx, port);
      await waitReady(proc, port, probeApexes(ctx.opts), 600_000);
      await waitSigned(proc, port, probeApexes(ctx.opts), 600_000);
      const spec = { port, queryFile: ctx.data.queryFile, seconds, perQuery: false };
      if (warmup > 0) {
        ctx.log(`${peer.name} (DNSSEC): warm-up, four passes through the query file without and with DO`);
        for (const mode of ['-e', '-D']) await load({ ...spec, seconds: 60, extra: [mode, '-n', String(WARM_PASSES)] });
      }
      ctx.log(`${peer.name} (DNSSEC): ${seconds} s without DO, ${seconds} s with DO, ${seconds} s of unique names with DO`);
      res.unsigned = await load({ ...spec, extra: ['-e'] });
      res.signed = await load({ ...spec, extra: ['-D'] });
      res.fresh = await load({ ...spec, queryFile: freshFile, extra: ['-D', '-n', '1'] });
    } catch (err) {
      res.error = (err as Error).message;
      ctx.log(`${peer.name} (DNSSEC): failed: ${res.error.split('\n')[0]}`);
    } finally {
      await proc?.stop();
    }
    out.push(res);
  }
  return out;
}

/** `count` names that exist nowhere, each once, spread over the customer domains: every one needs
 *  its own denial (and, from an online signer, its own signature). */
async function writeFreshNames(ctx: BenchContext, count: number): Promise<string> {
  const r = rng(11);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(`fresh-${i.toString(36)}-${Math.floor(r() * 1e9).toString(36)}.${customerApex(1 + Math.floor(r() * ctx.opts.domains))} A`);
  const file = join(ctx.workDir, 'fresh-names.txt');
  await writeFile(file, lines.join('\n') + '\n');
  return file;
}

const f0 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US'));
const f2 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(2));

/** A Markdown table: QPS without and with DO, the ratio, the answer codes with DO. */
export function dnssecTable(results: DnssecResult[]): string {
  const rows = ['| Server | QPS, DO=0 (unsigned) | QPS, DO=1 (signed) | signed / unsigned | avg latency DO=1 (ms) | RCODEs with DO=1 | QPS, unique names with DO=1 |', '|---|---:|---:|---:|---:|---|---:|'];
  for (const r of results) {
    if (r.error) { rows.push(`| ${r.name} | failed: ${r.error.split('\n')[0].replace(/\|/g, '/')} | | | | | |`); continue; }
    const ratio = r.signed && r.unsigned ? r.signed.qps / r.unsigned.qps : undefined;
    rows.push(`| ${r.name} | ${f0(r.unsigned?.qps)} | ${f0(r.signed?.qps)} | ${f2(ratio)} | ${f2(r.signed?.avgMs)} | ${Object.entries(r.signed?.rcodes ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')} | ${f0(r.fresh?.qps)} |`);
  }
  return rows.join('\n');
}

/** The closing lines: Glidepath signed/unsigned, and Glidepath signed against the others signed. */
export function dnssecRatios(results: DnssecResult[]): string[] {
  const g = results.find((r) => r.name === 'Glidepath' && r.signed && r.unsigned);
  if (!g) return [];
  const out = [`Glidepath signed/unsigned: ${f2(g.signed!.qps / g.unsigned!.qps)} (target >= 0.7)`];
  for (const r of results) {
    if (r === g || !r.signed) continue;
    out.push(`Glidepath signed / ${r.name} signed: ${f2(g.signed!.qps / r.signed.qps)}`);
  }
  return out;
}
