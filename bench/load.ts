// Load generation: dnsperf when installed (throughput unthrottled; latency percentiles from its -v
// per-query lines at a fixed rate, written to a file and read afterwards), else the small node generator in loadgen.ts.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { which, summarize, onCleanup } from './util.js';
import { nodeLoad } from './loadgen.js';

export interface LoadResult {
  tool: string;
  /** The command line (dnsperf) or settings (node) used. */
  command: string;
  seconds: number;
  sent: number;
  completed: number;
  lost: number;
  qps: number;
  rcodes: Record<string, number>;
  avgMs: number;
  /** Percentiles over every answered query, when per-query latencies were collected. */
  p50Ms?: number;
  p90Ms?: number;
  p99Ms?: number;
  p999Ms?: number;
  maxMs: number;
}

export interface LoadSpec { port: number; queryFile: string; seconds: number; /** Undefined: as fast as possible. */ qps?: number; perQuery: boolean;
  /** More dnsperf flags (the DNSSEC run: -e for EDNS, -D for the DO bit). */ extra?: string[] }

/** dnsperf's clients, threads, outstanding queries and timeout, the same for every server (run.ts's
 *  --dnsperf and --dnsperf-paced replace them). Unthrottled runs use two threads so that the
 *  generator is not what limits a multi-threaded server; runs at a fixed rate use one, so that it
 *  takes as little CPU as it can from the server under test on a small machine. */
export const DNSPERF_ARGS = ['-c', '8', '-T', '2', '-q', '500', '-t', '2'];
export const DNSPERF_PACED_ARGS = ['-c', '8', '-T', '1', '-q', '500', '-t', '2'];

export function setDnsperfArgs(which: string[], option: string, args: string): void {
  const a = args.trim().split(/\s+/).filter(Boolean);
  if (a.some((x) => ['-s', '-p', '-d', '-l', '-Q', '-v'].includes(x))) throw new Error(`${option}: -s, -p, -d, -l, -Q and -v are set by the benchmark`);
  which.splice(0, which.length, ...a);
}

let dnsperfPath: string | undefined | null = null;
export async function dnsperf(): Promise<string | undefined> {
  if (dnsperfPath === null) dnsperfPath = await which('dnsperf');
  return dnsperfPath;
}

/** Parses dnsperf's closing statistics. */
export function parseDnsperf(text: string): Omit<LoadResult, 'tool' | 'command' | 'seconds'> {
  const num = (re: RegExp) => { const m = re.exec(text); return m ? Number(m[1]) : NaN; };
  const rcodes: Record<string, number> = {};
  const rc = /Response codes:\s+(.*)/.exec(text);
  if (rc) for (const m of rc[1].matchAll(/([A-Z]+) (\d+)/g)) rcodes[m[1]] = Number(m[2]);
  return {
    sent: num(/Queries sent:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    qps: num(/Queries per second:\s+([\d.]+)/),
    rcodes,
    avgMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    maxMs: num(/Average Latency \(s\):.*max ([\d.]+)/) * 1000,
  };
}

let runs = 0;

async function runDnsperf(bin: string, spec: LoadSpec): Promise<LoadResult> {
  const args = ['-s', '127.0.0.1', '-p', String(spec.port), '-d', spec.queryFile, '-l', String(spec.seconds),
    ...(spec.qps === undefined ? DNSPERF_ARGS : DNSPERF_PACED_ARGS)];
  if (spec.qps !== undefined) args.push('-Q', String(Math.max(1, Math.round(spec.qps))));
  if (spec.perQuery) args.push('-v');
  if (spec.extra) args.push(...spec.extra);
  // dnsperf's output (with -v one line per query) goes to a file and is read afterwards: parsing it
  // while the load runs would take CPU from the server under test.
  const outFile = `${spec.queryFile}.dnsperf-${process.pid}-${++runs}.out`;
  const fh = await open(outFile, 'w');
  let stderr = '';
  let code: number | null;
  try {
    const child = spawn(bin, args, { stdio: ['ignore', fh.fd, 'pipe'] });
    const unregister = onCleanup(async () => { child.kill('SIGKILL'); });
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    // Bounded: dnsperf stops itself after -l seconds plus its -t timeout; kill it well after that.
    const killer = setTimeout(() => child.kill('SIGKILL'), (spec.seconds + 30) * 1000);
    code = await new Promise<number | null>((r) => { child.once('close', r); child.once('error', (e) => { stderr += e.message; r(null); }); });
    clearTimeout(killer);
    unregister();
  } finally {
    await fh.close();
  }
  const lat: number[] = [];
  const rest: string[] = [];
  try {
    const rl = createInterface({ input: createReadStream(outFile), crlfDelay: Infinity });
    for await (const l of rl) {
      if (l.startsWith('> ')) {
        // "> NOERROR name TYPE 0.000123"; unanswered queries ("> T name TYPE") carry no latency.
        const v = Number(l.slice(l.lastIndexOf(' ') + 1));
        if (Number.isFinite(v) && !l.startsWith('> T ')) lat.push(v * 1000);
      } else rest.push(l);
    }
  } finally {
    await rm(outFile, { force: true });
  }
  const text = rest.join('\n');
  if (code !== 0 || !/Queries per second/.test(text)) throw new Error(`dnsperf failed (exit ${code}): ${stderr.trim() || text.slice(-500)}`);
  return {
    tool: 'dnsperf', command: `dnsperf ${args.slice(4).join(' ').replace(spec.queryFile, 'queries.txt')}`, seconds: spec.seconds,
    ...parseDnsperf(text), ...(spec.perQuery ? summarize(lat) : {}),
  };
}

export async function load(spec: LoadSpec): Promise<LoadResult> {
  const bin = await dnsperf();
  return bin ? runDnsperf(bin, spec) : nodeLoad(spec);
}
