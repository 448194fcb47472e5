// Shared helpers of the benchmark: child processes, free ports, memory from /proc, a tiny DNS client
// for readiness probes and edit polling. Everything here talks to 127.0.0.1 only.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { freeTcpPort } from '../src/store/embedded.js';
import { readFile, readdir, access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import dnsPacket from 'dns-packet';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The path of an executable on PATH (plus the sbin directories daemons live in), or undefined. */
export async function which(cmd: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, cmd);
    try { await access(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return undefined;
}

export interface CmdResult { code: number | null; stdout: string; stderr: string }

/** Runs a command to completion (bounded by timeoutMs), never throwing on a non-zero exit. */
export function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<CmdResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 512 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === null ? String(err.message) : '') });
    });
  });
}

/** A port free for both UDP and TCP on 127.0.0.1. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await freeTcpPort();
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = createSocket('udp4');
      u.once('error', () => { u.close(); resolve(false); });
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port on 127.0.0.1');
}

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  startedAt: number;
  /** The last lines the process printed (stdout and stderr). */
  tail(): string;
  /** Every stdout line seen so far is passed to watchers. */
  onLine(fn: (line: string) => void): void;
  exited(): boolean;
  stop(): Promise<void>;
}

const running = new Set<Proc>();
/** Other things to undo on the way out (load generators, the run's PostgreSQL), newest first. */
const cleanups: Array<() => Promise<void>> = [];

/** Registers fn to run in stopAll(); returns a function that unregisters it. */
export function onCleanup(fn: () => Promise<void>): () => void {
  cleanups.push(fn);
  return () => { const i = cleanups.indexOf(fn); if (i >= 0) cleanups.splice(i, 1); };
}

/** Starts a daemon in the foreground; stop() sends SIGTERM, then SIGKILL after 10 s. */
export function startProc(name: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv, cwd?: string): Proc {
  const startedAt = performance.now();
  const child = spawn(cmd, args, { env: env ?? process.env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const watchers: Array<(l: string) => void> = [];
  let exited = false;
  const feed = (chunk: Buffer) => {
    for (const l of chunk.toString('utf8').split('\n')) {
      if (!l) continue;
      lines.push(l);
      if (lines.length > 40) lines.shift();
      for (const w of watchers) w(l);
    }
  };
  child.stdout?.on('data', feed);
  child.stderr?.on('data', feed);
  const done = new Promise<void>((r) => child.once('exit', () => { exited = true; r(); }));
  child.once('error', (err) => { lines.push(`spawn error: ${err.message}`); exited = true; });
  const p: Proc = {
    name, child, pid: child.pid ?? -1, startedAt,
    tail: () => lines.join('\n'),
    onLine: (fn) => { watchers.push(fn); },
    exited: () => exited,
    async stop() {
      running.delete(p);
      if (exited || child.pid === undefined) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 10_000);
      await done;
      clearTimeout(t);
    },
  };
  running.add(p);
  return p;
}

/** Stops whatever is still running (on errors and signals): servers first, then the cleanups
 *  (the PostgreSQL they use last, as it was registered first). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop().catch(() => undefined)));
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
}

async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const e of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(e)) continue;
    const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) out.push(Number(e));
  }
  return out;
}

async function kib(file: string, field: string): Promise<number> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

export interface Memory {
  /** VmRSS and VmHWM (peak RSS) of the main process, from /proc/PID/status. */
  rssMiB: number;
  hwmMiB: number;
  /** VmRSS and PSS summed over the process and its descendants. */
  treeRssMiB: number;
  treePssMiB: number;
  processes: number;
}

/** VmRSS and VmHWM of the process itself, and VmRSS and PSS summed over it and its descendants (NSD
 *  forks server processes that share the zone data copy-on-write: PSS counts shared pages once). */
export async function memoryOf(pid: number): Promise<Memory> {
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...await childrenOf(all[i]));
  let rss = 0, pss = 0;
  for (const p of all) {
    rss += await kib(`/proc/${p}/status`, 'VmRSS');
    pss += await kib(`/proc/${p}/smaps_rollup`, 'Pss');
  }
  return {
    rssMiB: (await kib(`/proc/${pid}/status`, 'VmRSS')) / 1024, hwmMiB: (await kib(`/proc/${pid}/status`, 'VmHWM')) / 1024, treeRssMiB: rss / 1024, treePssMiB: pss / 1024, processes: all.length,
  };
}

const TICK = 100; // USER_HZ: /proc times are in 1/100 s on Linux

/** CPU seconds (user + system) used so far by a process and its live descendants. */
export async function cpuSeconds(pid: number): Promise<number> {
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...await childrenOf(all[i]));
  let ticks = 0;
  for (const p of all) {
    const stat = await readFile(`/proc/${p}/stat`, 'utf8').catch(() => '');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(f[11] ?? 0) + Number(f[12] ?? 0); // utime, stime (fields 14 and 15)
  }
  return ticks / TICK;
}

/** Busy and total CPU seconds of the whole machine so far (/proc/stat), summed over every core, and
 *  of them the steal: time a virtual CPU wanted to run but the hypervisor ran something else. */
export async function machineCpu(): Promise<{ busy: number; total: number; steal: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: (total - idle) / TICK, total: total / TICK, steal: (v[7] ?? 0) / TICK };
}

export interface CpuUse {
  /** Cores the server (process tree) kept busy on average. */
  serverCores: number;
  /** Share of the whole machine that was busy (server, load generator, PostgreSQL, anything else). */
  machineBusyPct: number;
  /** CPU seconds the server's process tree used (user + system). */
  serverSeconds: number;
  /** Share of the machine's CPU time the hypervisor stole (a virtual machine's noise: a stolen
   *  millisecond is one in which a runnable server or load generator did not run). */
  stealPct: number;
}

/** Runs fn and reports how busy the server and the machine were meanwhile. */
export async function withCpu<T>(pid: number, fn: () => Promise<T>): Promise<[T, CpuUse]> {
  const [s0, m0, t0] = [await cpuSeconds(pid), await machineCpu(), performance.now()];
  const out = await fn();
  const [s1, m1, t1] = [await cpuSeconds(pid), await machineCpu(), performance.now()];
  const wall = (t1 - t0) / 1000;
  const machine = Math.max(1e-9, m1.total - m0.total);
  return [out, { serverCores: (s1 - s0) / wall, machineBusyPct: (100 * (m1.busy - m0.busy)) / machine, serverSeconds: s1 - s0, stealPct: (100 * (m1.steal - m0.steal)) / machine }];
}

export interface DnsAnswer { rcode: number; aa: boolean; answers: Array<{ type: string; data: string }>; authorities: number }

/** One UDP query; undefined on timeout. */
export function query(port: number, name: string, type: string, timeoutMs = 500): Promise<DnsAnswer | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const id = Math.floor(Math.random() * 65536);
    const finish = (v: DnsAnswer | undefined) => { clearTimeout(timer); sock.close(); resolve(v); };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    sock.on('error', () => finish(undefined));
    sock.on('message', (msg) => {
      try {
        const p = dnsPacket.decode(msg);
        if (p.id !== id) return;
        finish({
          rcode: (p.flags ?? 0) & 0xf,
          aa: p.flag_aa,
          answers: (p.answers ?? []).map((a) => ({ type: a.type, data: stringify('data' in a ? a.data : '') })),
          authorities: (p.authorities ?? []).length,
        });
      } catch { /* not for us */ }
    });
    const q = dnsPacket.encode({ type: 'query', id, flags: 0, questions: [{ name, type: type as dnsPacket.RecordType, class: 'IN' }] });
    sock.send(q, port, '127.0.0.1');
  });
}

function stringify(d: unknown): string {
  if (Array.isArray(d)) return d.map(stringify).join(' ');
  if (Buffer.isBuffer(d)) return d.toString('utf8');
  if (typeof d === 'object' && d !== null) return JSON.stringify(d);
  return String(d);
}

/** Waits until every probe name answers its SOA authoritatively with NOERROR; returns the ms since
 *  the process started, or throws when the process died or deadlineMs passed. */
export async function waitReady(proc: Proc, port: number, apexes: string[], deadlineMs: number): Promise<number> {
  const pending = new Set(apexes);
  const end = proc.startedAt + deadlineMs;
  while (pending.size) {
    if (proc.exited()) throw new Error(`${proc.name} exited before answering:\n${proc.tail()}`);
    if (performance.now() > end) throw new Error(`${proc.name} did not answer ${[...pending][0]} SOA within ${deadlineMs / 1000} s:\n${proc.tail()}`);
    const names = [...pending];
    const res = await Promise.all(names.map((n) => query(port, n, 'SOA', 200)));
    res.forEach((r, i) => { if (r && r.rcode === 0 && r.aa && r.answers.some((a) => a.type === 'SOA')) pending.delete(names[i]); });
    if (pending.size) await sleep(10);
  }
  return performance.now() - proc.startedAt;
}

/** Until the process answers a query at all (a server that is not authoritative for anything). */
export async function waitAnswering(proc: Proc, port: number, deadlineMs: number): Promise<number> {
  const end = proc.startedAt + deadlineMs;
  while (!(await query(port, 'floor.test', 'A', 200))) {
    if (proc.exited()) throw new Error(`${proc.name} exited before answering:\n${proc.tail()}`);
    if (performance.now() > end) throw new Error(`${proc.name} did not answer within ${deadlineMs / 1000} s:\n${proc.tail()}`);
    await sleep(10);
  }
  return performance.now() - proc.startedAt;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Latency percentiles (ms) of a set of samples. */
export function summarize(latMs: readonly number[]): { p50Ms: number; p90Ms: number; p99Ms: number; p999Ms: number } {
  const a = Array.from(Float64Array.from(latMs).sort());
  return { p50Ms: percentile(a, 50), p90Ms: percentile(a, 90), p99Ms: percentile(a, 99), p999Ms: percentile(a, 99.9) };
}
