// The primary of `glidepath serve --workers N`: owns the database (embedded or not), migrations,
// the PZC scheduler and the API; forks N workers that answer DNS on sockets node:cluster shares
// from here (UDP: one socket read by every worker; TCP/TLS: accepted here, handed out in turn).
// Because the sockets live in the primary, a rolling restart can replace workers one at a time
// without a moment where a port is closed: a new worker is started and ready before an old one is
// retired, and the old one drains its TCP/TLS connections before it exits.
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { access, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import dgram from 'node:dgram';
import net from 'node:net';
import { edgeOptions, type Config, type HostPort } from '../config.js';
import type { FeedState } from '../feed/state.js';
import type { Scrape } from '../metrics/registry.js';
import type { StartServer, Started } from './server.js';
import { QueryStats, type QueryStatsState } from '../server/query-stats.js';
import { drainDeadline } from '../server/tcp.js';
import { PORT_ZERO_ATTEMPTS } from '../server/dns-listeners.js';
import type { FromWorker, ToWorker, WorkerStart } from './messages.js';
import { workerExecArgv } from './worker-flags.js';

/** Port 0 made concrete here, once: each worker binds its own UDP socket (SO_REUSEPORT), and all
 *  of them, and their replacements, must take the same port. A port free for UDP may be taken for
 *  TCP (another process's outgoing connection, from the same ephemeral range), and DNS listens on
 *  both: a port is kept only when TCP can listen on it too, tried as listenDns tries (then the last
 *  one, whose TCP listen names the error). */
async function concretePorts(dns: HostPort[]): Promise<HostPort[]> {
  return Promise.all(dns.map(async (a) => {
    if (a.port !== 0) return a;
    for (let i = 0; ; i++) {
      const s = dgram.createSocket(a.host.includes(':') ? 'udp6' : 'udp4');
      await new Promise<void>((resolve, reject) => { s.once('error', reject); s.bind(0, a.host, () => resolve()); });
      const port = s.address().port;
      await new Promise<void>((r) => s.close(() => r()));
      if (i === PORT_ZERO_ATTEMPTS - 1 || await tcpFree(a.host, port)) return { host: a.host, port };
    }
  }));
}

function tcpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/** A worker could not start (its message is one line for the operator, e.g. a port in use).
 *  `database`: because the database could not be used (a worker seeded by a sibling can start). */
export class WorkerStartError extends Error {
  constructor(message: string, readonly database = false) { super(message); }
}

interface Slot {
  worker: Worker; ready: boolean; retiring: boolean;
  /** Counters as the last scrape found them; kept if the worker dies without a final report. */
  last?: QueryStatsState;
  /** Its final counters were added to `Primary.gone`: scrapes leave it out. */
  final: boolean;
}

/** A new worker must be ready within this, or keep using CPU (its 'loading' reports): a million
 *  records take about 20 s to load, 13 million (a million domains) minutes on a busy machine. */
const READY_TIMEOUT_MS = 10 * 60_000;
/** CPU a loading worker must have used since the last deadline was set for a new one. */
const LOADING_PROGRESS_MS = 1000;
const STATS_TIMEOUT_MS = 1000;
/** A live worker must have written its snapshot within this. */
const DUMP_TIMEOUT_MS = 5 * 60_000;
/** Retries of a replacement that failed to start: 1 s doubling to this. */
const MAX_RETRY_MS = 10_000;

export class Primary {
  private server: Started | undefined;
  private readonly slots = new Map<number, Slot>();
  private restarting: Promise<number> | undefined;
  private stopping = false;
  private respawnDelay = 1000;
  private statsId = 0;
  private dumpId = 0;
  /** As the API's database monitor last saw it. */
  private dbUp = true;
  /** Replacements of dead workers being started or retried. */
  private replacing = 0;
  /** Counters of workers that have stopped: /metrics adds them to the live ones, so a replaced
   *  worker does not take its counts with it (Prometheus would read the drop as a reset). */
  private readonly gone = new QueryStats();

  /** The DNS cookie secret when none is configured: made once, so every worker (and every
   *  replacement) makes and accepts the same cookies. */
  private readonly cookieSecret = randomBytes(16).toString('hex');

  constructor(private cfg: Readonly<Config>, private readonly count: number, private readonly log: Logger,
    private readonly startServer: StartServer) {}

  get url(): string { return this.server?.apiUrl() ?? ''; }

  async start(): Promise<void> {
    this.server = await this.startServer({
      role: 'control', databaseUrl: this.cfg.databaseUrl, dataDir: this.cfg.dataDir, dns: [], api: this.cfg.api,
      adminToken: this.cfg.adminToken, apiTls: this.cfg.apiTls, log: this.log, keyFile: this.cfg.keyFile, retention: this.cfg.retention,
      healthAllow: this.cfg.healthAllow,
      dnssecRollover: { propagationDelay: this.cfg.dnssecPropagationDelay },
      db: { connectMs: this.cfg.dbConnectTimeoutMs, statementMs: this.cfg.dbStatementTimeoutMs },
      zoneFile: { maxBytes: this.cfg.zoneFileMaxBytes, maxRecords: this.cfg.zoneMaxRecords },
      // Ready while some worker answers DNS (a lost one is being replaced); /healthz fails at none.
      ready: () => this.readyCount() > 0,
      workers: () => ({ ready: Math.min(this.readyCount(), this.count), wanted: this.count }),
      onDatabaseChange: (up) => this.databaseChanged(up),
      metrics: () => this.metrics(),
      positions: async () => (await this.ask()).flatMap((r) => (r && !r.slot.retiring ? [r.feed] : [])),
      edge: edgeOptions(this.cfg), node: { id: this.cfg.nodeId, version: this.cfg.version }, stats: this.cfg.stats,
    });
    this.cfg = { ...this.cfg, dns: await concretePorts(this.cfg.dns) };
    // Workers get heap flags for holding a large snapshot (worker-flags.ts).
    cluster.setupPrimary({ execArgv: workerExecArgv(process.execArgv) });
    cluster.on('exit', (w, code, signal) => this.exited(w, code, signal));
    try {
      // A worker whose load meets a database going down starts from a sibling that made it.
      // The first worker loads its snapshot alone and answers as soon as it has it; the others are
      // forked at once but load after it. All loading together, they share the cores and all are
      // ready late: with a million domains, about 60 s for the first alone against 130 s for two
      // together (bench/RESULTS.md).
      const first = this.spawnAnswering();
      const firstDone = first.then(() => undefined, () => undefined);
      await Promise.all([first, ...Array.from({ length: this.count - 1 }, () => this.spawnAnswering(firstDone))]);
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.log.info({ workers: this.count, pids: [...this.slots.values()].map((s) => s.worker.process.pid) }, 'workers ready');
  }

  /** Replaces every worker, one at a time: the new one is ready before the old one is retired.
   *  A second call while one runs joins it. Resolves with the number of workers replaced; rejects
   *  when none answers (nothing to replace: the replacements of dead ones are being retried). */
  restart(): Promise<number> {
    return (this.restarting ??= (async () => {
      try {
        const old = [...this.slots.values()].filter((s) => s.ready && !s.retiring);
        if (old.length === 0) {
          throw new Error(`no worker is answering, so none was replaced; ${this.replacing} replacement(s) of dead workers are being retried (see the log)`);
        }
        this.log.info({ workers: old.length }, 'rolling restart');
        for (const s of old) {
          if (this.stopping) break;
          await this.spawnAnswering(); // if this fails the old worker stays, and the error goes to the caller
          await this.retire(s);
        }
        this.log.info({ replaced: old.length }, 'rolling restart done');
        return old.length;
      } finally {
        this.restarting = undefined;
      }
    })());
  }

  /** SIGHUP: new log level and certificate files here (API) and in every worker (DoT). */
  async reload(cfg: Readonly<Config>): Promise<void> {
    this.cfg = cfg;
    for (const s of this.slots.values()) this.send(s.worker, { t: 'reload', o: { logLevel: cfg.logLevel, tls: cfg.tls, cookieSecrets: this.cookieSecrets() } });
    await this.server?.reload({ logLevel: cfg.logLevel, apiTls: cfg.apiTls });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.slots.values()].map((s) => this.retire(s)));
    await this.server?.stop();
  }

  /** Workers wanted, and how many answer now. */
  counts(): { wanted: number; ready: number } { return { wanted: this.count, ready: this.readyCount() }; }

  status(): { pid: number; workers: Array<{ id: number; pid: number | undefined; ready: boolean; retiring: boolean }> } {
    return {
      pid: process.pid,
      workers: [...this.slots.values()].map((s) => ({ id: s.worker.id, pid: s.worker.process.pid, ready: s.ready, retiring: s.retiring })),
    };
  }

  private readyCount(): number {
    let n = 0;
    for (const s of this.slots.values()) if (s.ready && !s.retiring) n++;
    return n;
  }

  private workerStart(seed?: string): WorkerStart {
    const c = this.cfg;
    return {
      databaseUrl: this.server!.db.url, dns: c.dns, dot: c.dot, tls: c.tls, udpMaxPayload: c.udpMaxPayload,
      tcpIdleMs: c.tcpIdleMs, tcpMessageMs: c.tcpMessageMs, tcpMaxConnections: c.tcpMaxConnections, responseCache: c.responseCache, logLevel: c.logLevel, keyFile: c.keyFile,
      cookies: { ...c.cookies, secrets: this.cookieSecrets() }, rrl: c.rrl, udpIo: c.udpIo,
      edge: edgeOptions(c), node: { id: c.nodeId, version: c.version },
      connectMs: c.dbConnectTimeoutMs, stats: c.stats, ...(seed ? { seed } : {}),
    };
  }

  private cookieSecrets(): string[] {
    return this.cfg.cookies.secrets.length ? this.cfg.cookies.secrets : [this.cookieSecret];
  }

  /** Where a live worker's snapshot is kept while the database is down, for a worker started when
   *  no other is left to take one from. */
  private get outageSeed(): string { return join(this.cfg.dataDir, 'snapshots', 'outage.ndjson'); }

  private live(): Slot | undefined {
    return [...this.slots.values()].find((s) => s.ready && !s.retiring && !s.worker.isDead());
  }

  /** Starts a worker. When it cannot load its snapshot for want of the database, starts one from a
   *  live sibling's snapshot (or, with none left, the one saved as the outage began): it answers
   *  at once and catches up through the change feed once the database is back. */
  private async spawnAnswering(after?: Promise<void>): Promise<Worker> {
    if (this.dbUp) {
      try {
        return await this.spawn(undefined, after);
      } catch (err) {
        if (!(err instanceof WorkerStartError && err.database)) throw err;
      }
    }
    const live = this.live();
    let seed = this.outageSeed;
    if (live) {
      seed = join(this.cfg.dataDir, 'snapshots', `seed-${process.pid}-${++this.dumpId}.ndjson`);
      await this.dump(live, seed);
    } else if (!(await access(seed).then(() => true, () => false))) {
      throw new WorkerStartError('the database is unavailable and no worker is left to take the snapshot from', true);
    }
    this.log.info({ seed, from: live?.worker.id ?? 'outage file' }, 'database unavailable: starting a worker from a snapshot handed over');
    try {
      return await this.spawn(seed);
    } finally {
      if (seed !== this.outageSeed) await unlink(seed).catch(() => undefined);
    }
  }

  /** Asks a live worker to write its snapshot to `path`. */
  private dump(s: Slot, path: string): Promise<void> {
    const id = ++this.dumpId;
    const w = s.worker;
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => { clearTimeout(timer); w.off('message', on); w.off('exit', onExit); if (err) reject(err); else resolve(); };
      const timer = setTimeout(() => done(new WorkerStartError(`worker ${w.id} did not write its snapshot within ${DUMP_TIMEOUT_MS / 1000} s`, true)), DUMP_TIMEOUT_MS);
      const on = (m: FromWorker) => { if (m.t === 'dumped' && m.id === id) done(m.error ? new WorkerStartError(`worker ${w.id} could not write its snapshot: ${m.error}`, true) : undefined); };
      const onExit = () => done(new WorkerStartError(`worker ${w.id} exited while writing its snapshot`, true));
      w.on('message', on);
      w.on('exit', onExit);
      this.send(w, { t: 'dump', id, path });
    });
  }

  /** The database went down: keep a live worker's snapshot (nothing changes while it is down), so
   *  that even with every worker lost a new one can answer. Back up: the file goes. */
  private databaseChanged(up: boolean): void {
    this.dbUp = up;
    if (up) { void unlink(this.outageSeed).catch(() => undefined); return; }
    const live = this.live();
    if (!live) return;
    this.dump(live, this.outageSeed).then(
      () => this.log.info({ file: this.outageSeed }, 'snapshot kept for workers started during the database outage'),
      (err: Error) => this.log.warn({ err: err.message }, 'could not keep a snapshot for the database outage'));
  }

  private send(w: Worker, m: ToWorker): void {
    // A worker killed a moment ago can still look connected; the write then fails with EPIPE. With
    // a callback that failure is handed here instead of thrown as an unhandled 'error' event, which
    // would take the primary down (seen when a worker fails to start and is killed at once).
    if (w.isConnected()) w.send(m, undefined, undefined, (err: Error | null) => {
      if (err) this.log.debug({ worker: w.id, err: err.message }, 'message to a worker lost');
    });
  }

  /** Forks a worker; it is told to start (load its snapshot) once `after` has settled. */
  private spawn(seed?: string, after?: Promise<void>): Promise<Worker> {
    const w = cluster.fork();
    const slot: Slot = { worker: w, ready: false, retiring: false, final: false };
    // Whatever else a worker's channel reports must not take the primary (and the API) down.
    w.on('error', (err: Error) => this.log.warn({ worker: w.id, err: err.message }, 'worker channel error'));
    w.on('message', (m: FromWorker) => {
      if (m.t !== 'final' || slot.final) return;
      slot.final = true;
      this.gone.add(m.stats);
    });
    // A worker that died without its final report: keep what the last scrape saw of it. On
    // 'disconnect', not 'exit': the channel closes after the messages in it have been read.
    w.on('disconnect', () => {
      if (slot.final) return;
      slot.final = true;
      if (slot.last) this.gone.add(slot.last);
    });
    this.slots.set(w.id, slot);
    return new Promise<Worker>((resolve, reject) => {
      const deadline = () => setTimeout(() => fail(new WorkerStartError(`worker ${w.id} not ready, and no progress, after ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
      let timer = deadline();
      let cpuAtDeadline = 0;
      let settled = false;
      const done = () => { settled = true; clearTimeout(timer); w.off('message', onMessage); w.off('exit', onExit); };
      const fail = (err: Error) => { done(); slot.retiring = true; w.kill('SIGKILL'); reject(err); };
      const onMessage = (m: FromWorker) => {
        if (m.t === 'hello') {
          // Waiting for its turn is not a worker failing to start: its deadline runs from the start.
          clearTimeout(timer);
          void (after ?? Promise.resolve()).then(() => {
            if (settled) return;
            timer = deadline();
            this.send(w, { t: 'start', start: this.workerStart(seed) });
          });
        }
        else if (m.t === 'loading' && m.cpuMs - cpuAtDeadline >= LOADING_PROGRESS_MS) {
          // Still loading, and working at it: a new deadline from now.
          cpuAtDeadline = m.cpuMs;
          clearTimeout(timer);
          timer = deadline();
        }
        else if (m.t === 'ready') { done(); slot.ready = true; this.respawnDelay = 1000; resolve(w); }
        else if (m.t === 'failed') fail(new WorkerStartError(m.error, m.database));
      };
      const onExit = (code: number | null, signal: string | null) => {
        done();
        reject(new WorkerStartError(`worker ${w.id} exited (${signal ?? `code ${code}`}) before it was ready`));
      };
      w.on('message', onMessage);
      w.on('exit', onExit);
    });
  }

  private retire(s: Slot): Promise<void> {
    s.retiring = true;
    if (s.worker.isDead()) { this.slots.delete(s.worker.id); return Promise.resolve(); }
    return new Promise<void>((resolve) => {
      // The worker drains for at most the TCP drain deadline; past that (and some slack) it is cut.
      const timer = setTimeout(() => s.worker.kill('SIGKILL'), drainDeadline({ idleMs: this.cfg.tcpIdleMs, messageMs: this.cfg.tcpMessageMs, maxConnections: 0 }) + 10_000);
      s.worker.once('exit', () => { clearTimeout(timer); this.slots.delete(s.worker.id); resolve(); });
      this.send(s.worker, { t: 'retire' });
    });
  }

  /** A worker that dies unasked is replaced (after a backoff, so a crash loop does not spin; at
   *  once when no other worker answers). A replacement that fails to start is retried, 1 s doubling
   *  to 10 s, until one starts. */
  private exited(w: Worker, code: number | null, signal: string | null): void {
    const s = this.slots.get(w.id);
    if (!s) return;
    if (s.retiring) { this.slots.delete(w.id); return; } // retired, or killed because it failed to start
    this.slots.delete(w.id);
    if (!s.ready || this.stopping) return; // a start failure is the spawner's to report
    this.log.error({ worker: w.id, pid: w.process.pid, code, signal }, 'worker died; starting another');
    const delay = this.readyCount() === 0 ? 0 : this.respawnDelay;
    this.respawnDelay = Math.min(this.respawnDelay * 2, 30_000);
    void this.replace(delay);
  }

  private async replace(delay: number): Promise<void> {
    this.replacing++;
    try {
      let retry = 1000;
      for (let attempt = 1; ; attempt++) {
        if (delay) await new Promise((r) => setTimeout(r, delay).unref());
        if (this.stopping) return;
        try {
          const w = await this.spawnAnswering();
          if (attempt > 1) this.log.info({ worker: w.id, attempt }, 'replacement worker started');
          return;
        } catch (err) {
          if (this.stopping) return;
          delay = retry;
          retry = Math.min(retry * 2, MAX_RETRY_MS);
          this.log.warn({ err: (err as Error).message, attempt, retryInMs: delay }, 'replacement worker failed to start; retrying');
        }
      }
    } finally {
      this.replacing--;
    }
  }

  /** Every ready worker's counters and snapshot position; undefined for one that did not answer in
   *  time (busy, or stopping). */
  private async ask(): Promise<Array<{ slot: Slot; stats: QueryStatsState; feed: FeedState } | undefined>> {
    const id = ++this.statsId;
    // Retiring workers still answer (draining) and still count until their final report.
    const asked = [...this.slots.values()].filter((s) => s.ready && !s.final);
    return Promise.all(asked.map((s) => new Promise<{ slot: Slot; stats: QueryStatsState; feed: FeedState } | undefined>((resolve) => {
      const timer = setTimeout(() => { s.worker.off('message', on); resolve(undefined); }, STATS_TIMEOUT_MS);
      const on = (m: FromWorker) => {
        if (m.t !== 'stats' || m.id !== id) return;
        clearTimeout(timer);
        s.worker.off('message', on);
        resolve({ slot: s, stats: m.stats, feed: m.feed });
      };
      s.worker.on('message', on);
      this.send(s.worker, { t: 'stats', id });
    })));
  }

  /** /metrics in the primary: the counters of every worker, running or stopped, summed; for the
   *  snapshot, the worst answering worker. */
  private async metrics(): Promise<Scrape> {
    const asked = [...this.slots.values()].filter((s) => s.ready && !s.final);
    const live = asked.filter((s) => !s.retiring);
    const replies = await this.ask();
    const total = new QueryStats();
    const feed: FeedState = { ageSeconds: -1, seq: Infinity, lag: 0, domains: 0 };
    let answered = 0;
    for (const [i, r] of replies.entries()) {
      const s = asked[i];
      if (!r) {
        // No answer in time (busy, or stopping): its last counts, so the sum does not dip.
        if (!s.final && s.last) total.add(s.last);
        continue;
      }
      // A worker whose final report came while we asked is counted in `gone`, once.
      if (!s.final) { s.last = r.stats; total.add(r.stats); }
      if (s.retiring) continue;
      answered++;
      feed.ageSeconds = Math.max(feed.ageSeconds, r.feed.ageSeconds);
      feed.seq = Math.min(feed.seq, r.feed.seq);
      feed.lag = Math.max(feed.lag, r.feed.lag);
      feed.domains = Math.max(feed.domains, r.feed.domains);
    }
    if (!answered) feed.seq = 0;
    total.add(this.gone.state());
    return { queries: total.state(), feed, workers: { ready: live.length, reporting: answered } };
  }
}
