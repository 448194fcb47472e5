// Composition root: config -> database (embedded or DATABASE_URL) -> migrate -> snapshot and change
// feed -> DNS listeners -> API -> scheduler. stop() undoes them in reverse order.
import type { Logger } from 'pino';
import type { CookieSettings } from './config.js';
import type { RrlSettings } from './config.js';
import { Cookies } from './server/cookies.js';
import type { Config, HostPort, ApiTlsFiles, EdgeOptions, NodeName } from './config.js';
import { createPool, checkConnection, isDatabaseUnavailable, type Pool } from './store/db.js';
import { DatabaseMonitor } from './store/db-monitor.js';
import { startEmbedded, type EmbeddedServer } from './store/embedded.js';
import { connectEmbedded } from './store/embedded-attach.js';
import { migrate } from './store/migrate.js';
import { ChangeFeed } from './feed/change-feed.js';
import { feedState } from './feed/state.js';
import { Metrics, type Gather } from './metrics/registry.js';
import { QueryStats } from './server/query-stats.js';
import { ListenError } from './server/listen-error.js';
import { type TlsListener } from './server/tls.js';
import { readFile } from 'node:fs/promises';
import type { Server as TlsServer } from 'node:tls';
import { buildApp, apiSecureContext, type ApiTlsMaterial } from './api/app.js';
import { PzcScheduler } from './pzc/scheduler.js';
import { HealthChecker } from './health/checker.js';
import { TargetPolicy } from './health/targets.js';
import { checkStates } from './store/health.js';
import { HEALTH_SERIES_MAX } from './metrics/health.js';
import { HistoryPruner } from './store/retention.js';
import { statsRollup } from './store/query-stats-rollup.js';
import { DEFAULT_STATS, type StatsSettings } from './config.js';
import { DEFAULT_RETENTION, type RetentionLimits } from './config.js';
import { createLogger } from './log.js';
import { type NotifyOptions } from './transfer/notify.js';
import { type ReannounceOptions } from './transfer/reannounce.js';
import { edgeReadiness, type SnapshotPosition } from './feed/readiness.js';
import { untilItWorks } from './feed/retry.js';
import { KekHolder, type KeyFileSetting } from './store/key-file.js';
import type { RolloverSettings } from './store/dnssec-rollover.js';
import { join } from 'node:path';
import { startAnswering, readTls, TlsFileError, type TransferSide } from './answering.js';

export interface Database { url: string; pool: Pool; embedded: EmbeddedServer | undefined; close(): Promise<void> }

/** DATABASE_URL when set; else the embedded server in the data directory (attaching to one a
 *  running `glidepath serve` already started, so CLI commands work beside it). With `wait` (an
 *  edge) an unreachable database is retried until it answers instead of failing the start. */
export async function openDatabase(cfg: Pick<Config, 'databaseUrl' | 'dataDir'> & { connectMs?: number; mayBeDown?: boolean }, log: Logger, wait = false): Promise<Database> {
  let url = cfg.databaseUrl;
  let embedded: EmbeddedServer | undefined;
  if (!url) {
    url = await connectEmbedded(cfg.dataDir);
    if (!url) {
      embedded = await startEmbedded({ dataDir: cfg.dataDir, onLog: (l) => log.debug({ pg: l }, 'postgres') });
      url = embedded.url;
      log.info({ dataDir: cfg.dataDir }, 'embedded PostgreSQL started');
    }
  }
  const pool = createPool(url, 10, { connectMs: cfg.connectMs });
  const check = () => checkConnection(pool, url);
  try {
    await (wait ? untilItWorks(check, log, 'connecting to the database') : check());
  } catch (err) {
    // A worker started from a sibling's snapshot answers without the database, and catches up
    // through the change feed once it is back.
    if (cfg.mayBeDown) {
      log.warn({ err: (err as Error).message }, 'database unavailable; answering from the snapshot handed over');
      return { url, pool, embedded, close: () => pool.end().then(() => undefined, () => undefined) };
    }
    await pool.end().catch(() => undefined);
    await embedded?.stop();
    throw err;
  }
  return {
    url, pool, embedded,
    async close() {
      await pool.end().catch(() => undefined);
      if (embedded) {
        await embedded.stop();
        log.info('embedded PostgreSQL stopped');
      }
    },
  };
}

export interface ServerOptions {
  databaseUrl?: string;
  dataDir?: string;
  dns: HostPort[];
  api: HostPort | null;
  adminToken?: string;
  logLevel?: string;
  udpMaxPayload?: number;
  tcpIdleMs?: number;
  /** Time a TCP/TLS client has to send one whole message once it has begun (slow-loris bound). */
  tcpMessageMs?: number;
  tcpMaxConnections?: number;
  /** Clock for the query path (tests inject one). */
  now?: () => number;
  /** The encoded-response cache (on by default; GLIDEPATH_RESPONSE_CACHE=off disables it). */
  responseCache?: boolean;
  /** DNS over TLS addresses (GLIDEPATH_DOT), with the PEM files of the certificate (chain) and key. */
  dot?: HostPort[];
  tls?: { certFile: string; keyFile: string };
  /** HTTPS for the API, with optional client certificates (GLIDEPATH_API_TLS_* and _CLIENT_*). */
  apiTls?: ApiTlsFiles;
  log?: Logger;
  /** What this process does. "all" (one process, the default); with `serve --workers N` the
   *  primary is "control" (migrations, PZC scheduler, API; no snapshot) and each worker "answer"
   *  (snapshot, change feed, DNS listeners on the sockets the primary shares). */
  role?: 'all' | 'control' | 'answer';
  /** For "control": readiness and DNS metrics gathered from the workers. */
  ready?: () => boolean;
  metrics?: Gather;
  /** For "control" of an edge: the snapshot positions of the workers, for /readyz. */
  positions?: () => Promise<SnapshotPosition[]>;
  /** GLIDEPATH_ROLE=edge: reads only (no migrations, scheduler, re-announcements or NOTIFY), polls
   *  the journal every `pollMs` instead of LISTEN (a hot standby refuses LISTEN), waits for an
   *  unreachable database, and serves only health routes on the API. */
  edge?: EdgeOptions;
  /** GLIDEPATH_NODE_ID and GLIDEPATH_VERSION: NSID and CHAOS TXT answers, /metrics. */
  node?: NodeName;
  /** Zone transfers: NOTIFY retry timing, the PZC re-announcement tolerance, the soft size of a
   *  transfer message (tests shrink them). */
  transfer?: { notify?: NotifyOptions; reannounce?: ReannounceOptions; messageTarget?: number; refusalLogMs?: number };
  /** GLIDEPATH_KEY_FILE (DNSSEC key encryption); default: created in the data directory on first use. */
  keyFile?: KeyFileSetting;
  /** DNSSEC key rollovers: the scheduler's clock (tests inject one; default `now`, else Date.now)
   *  and the propagation delay in seconds (GLIDEPATH_DNSSEC_PROPAGATION_DELAY, default 300). */
  dnssecRollover?: { now?: () => number; propagationDelay?: number };
  /** DNS cookies (on by default, with a secret made at start when none is given). */
  cookies?: CookieSettings;
  /** Response rate limiting of UDP answers (off by default). */
  rrl?: RrlSettings;
  /** UDP I/O: the batched native addon where it built ("auto", the default), or node:dgram. */
  udpIo?: 'auto' | 'native' | 'dgram';
  /** PostgreSQL timeouts (GLIDEPATH_DB_*): connecting, and (API only) a statement. */
  db?: { connectMs?: number; statementMs?: number };
  /** Zone-file upload limits (GLIDEPATH_ZONE_FILE_MAX_BYTES, GLIDEPATH_ZONE_MAX_RECORDS). */
  zoneFile?: { maxBytes: number; maxRecords: number };
  /** Per-domain query statistics (GLIDEPATH_STATS*); default: on, DEFAULT_STATS. */
  stats?: StatsSettings;
  /** "answer": a snapshot file (cluster/seed.ts) to start from instead of the database, which may be down. */
  seed?: string;
  /** "control": workers answering DNS and how many are wanted (/healthz, /readyz). */
  workers?: () => { ready: number; wanted: number };
  /** Told when the API's database monitor sees the database go down or come back. */
  onDatabaseChange?: (up: boolean) => void;
  /** GLIDEPATH_HEALTH_ALLOW: networks active health checks may reach besides public addresses, or "any". */
  healthAllow?: string[];
  /** History limits and how often they are enforced (defaults: DEFAULT_RETENTION, every 60 s). */
  retention?: Partial<RetentionLimits> & { intervalMs?: number };
}

/** What SIGHUP may change without a restart. Files are reread even when their names stay. */
export interface ReloadOptions {
  logLevel?: string;
  tls?: { certFile: string; keyFile: string };
  apiTls?: ApiTlsFiles;
  /** DNS cookie secrets, hex, the one that makes cookies first (GLIDEPATH_COOKIE_SECRET). */
  cookieSecrets?: string[];
}

export interface RunningServer {
  dnsPort(i?: number): number;
  /** Port of the i-th DNS-over-TLS listener. */
  dotPort(i?: number): number;
  /** Rereads the certificate, key, CA and CRL files (DoT and API) and sets the log level; new
   *  handshakes use the new files, no listener or open connection is touched. All files are read
   *  before anything is swapped, so a bad file changes nothing. */
  reload(o?: ReloadOptions): Promise<void>;
  apiUrl(): string;
  /** The snapshot's change feed; none in the "control" role. */
  feed: ChangeFeed | undefined;
  stats: QueryStats;
  /** Transfer settings as the DNS side sees them, and the NOTIFY sender; none in "control". */
  transfer: TransferSide | undefined;
  db: Database;
  stop(): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const log = opts.log ?? createLogger(opts.logLevel ?? 'info');
  // pino children copy their level when created: keep them, so that a reload reaches them all.
  const loggers: Logger[] = [log];
  const child = (component: string) => { const c = log.child({ component }); loggers.push(c); return c; };
  const stops: Array<() => Promise<void>> = [];
  let stopping: Promise<void> | undefined;
  // Idempotent: steps run once, newest first (listeners before the feed before the database).
  const stopAll = () => (stopping ??= (async () => {
    for (const s of stops.reverse()) await s().catch((err: Error) => log.warn({ err: err.message }, 'stop step failed'));
  })());
  const role = opts.role ?? 'all';
  const kek = new KekHolder(opts.keyFile ?? { file: join(opts.dataDir ?? './.glidepath', 'dnssec-kek.key'), create: true });
  const rollover: RolloverSettings = { now: opts.dnssecRollover?.now ?? opts.now ?? Date.now, propagationDelay: opts.dnssecRollover?.propagationDelay ?? 300 };
  const edge = opts.edge;
  try {
    const db = await openDatabase({
      databaseUrl: opts.databaseUrl, dataDir: opts.dataDir ?? './.glidepath', connectMs: opts.db?.connectMs ?? 2000, mayBeDown: !!opts.seed,
    }, log, edge !== undefined);
    stops.push(() => db.close());
    if (role !== 'answer' && !edge) {
      const applied = await migrate(db.pool);
      if (applied.length) log.info({ applied }, 'migrations applied');
    }

    const stats = new QueryStats();
    let feed: ChangeFeed | undefined;
    let transfer: TransferSide | undefined;
    const dnsPorts: number[] = [];
    const dotPorts: number[] = [];
    const dotListeners: TlsListener[] = [];
    let cookies: Cookies | undefined;
    if (role !== 'control') {
      ({ feed, transfer, cookies } = await startAnswering(db, opts, stats, child, stops, dnsPorts, dotPorts, dotListeners, kek));
    }

    let checker: HealthChecker | undefined;
    if (role !== 'answer' && !edge) {
      const scheduler = new PzcScheduler(db.pool, child('pzc'), 500, rollover);
      await scheduler.start();
      stops.push(() => scheduler.stop());
      // Health checks run where the scheduler does: the primary side, exactly once across nodes.
      checker = new HealthChecker(db.pool, child('health'), new TargetPolicy(opts.healthAllow));
      checker.start();
      const c = checker;
      stops.push(() => c.stop());
      const pruner = new HistoryPruner(db.pool, child('retention'), { ...DEFAULT_RETENTION, ...opts.retention }, opts.retention?.intervalMs);
      pruner.start();
      stops.push(() => pruner.stop());
      const st = opts.stats ?? DEFAULT_STATS;
      const rollup = statsRollup(db.pool, child('stats'), st, opts.retention?.intervalMs);
      rollup.start();
      stops.push(() => rollup.stop());
    }

    let apiUrl = '';
    let apiServer: TlsServer | undefined;
    if (opts.api && role !== 'answer') {
      const f = feed;
      const positions = f ? async () => [feedState(f)] : opts.positions;
      const nodeInfo = () => (opts.node ? { id: opts.node.id, role: edge ? 'edge' as const : 'primary' as const } : undefined);
      // The API's own pool, with a statement timeout: a frozen or overloaded database costs a
      // request seconds, not minutes (migrations and snapshot loads use db.pool, without one).
      const apiPool = createPool(db.url, 10, { connectMs: opts.db?.connectMs ?? 2000, statementMs: opts.db?.statementMs ?? 15_000 });
      stops.push(() => apiPool.end().catch(() => undefined));
      // The probe has a connection of its own: a busy API pool must not read as an outage.
      const probePool = createPool(db.url, 1, { connectMs: opts.db?.connectMs ?? 2000 });
      stops.push(() => probePool.end().catch(() => undefined));
      // Health checks on /metrics where they run; a scrape during an outage goes without them.
      const healthScrape = async () => (checker
        ? { ...(await checkStates(apiPool, HEALTH_SERIES_MAX).catch(() => ({ checks: [], counts: [] }))), runs: { ...checker.runs } }
        : undefined);
      const monitor = new DatabaseMonitor(probePool, child('database'));
      monitor.onChange = (up) => opts.onDatabaseChange?.(up);
      if (!edge) monitor.start();
      stops.push(async () => monitor.stop());
      const app = await buildApp({
        pool: apiPool, log: child('api'), adminToken: opts.adminToken, kek, rollover,
        database: edge ? undefined : monitor, workers: opts.workers, zoneFile: opts.zoneFile, stats: opts.stats ?? DEFAULT_STATS,
        ready: f ? () => f.loaded : opts.ready,
        metrics: new Metrics(f
          ? async () => ({ queries: stats.state(), feed: feedState(f), node: nodeInfo(), health: await healthScrape() })
          : async () => ({ ...(await opts.metrics?.()), node: nodeInfo(), health: await healthScrape() })),
        https: opts.apiTls ? await readApiTls(opts.apiTls) : undefined,
        healthOnly: edge !== undefined,
        readiness: edge && positions ? async () => edgeReadiness(db.pool, await positions(),
          { node: opts.node?.id ?? '', maxLagSeconds: edge.maxLagSeconds }) : undefined,
      });
      if (opts.apiTls) apiServer = app.server as unknown as TlsServer;
      stops.push(() => app.close());
      await app.listen({ host: opts.api.host, port: opts.api.port }).catch((err: Error & { code?: string }) => {
        throw new ListenError(opts.api!, 'tcp (API)', err);
      });
      const a = app.server.address();
      const port = typeof a === 'object' && a ? a.port : opts.api.port;
      const host = opts.api.host.includes(':') ? `[${opts.api.host}]` : opts.api.host;
      apiUrl = `${opts.apiTls ? 'https' : 'http'}://${host}:${port}`;
      log.info({ url: apiUrl }, 'API listening');
    }
    return {
      dnsPort: (i = 0) => dnsPorts[i],
      dotPort: (i = 0) => dotPorts[i],
      reload: async (o = {}) => {
        const tlsFiles = o.tls ?? opts.tls;
        const apiFiles = o.apiTls ?? opts.apiTls;
        const dotMaterial = tlsFiles && dotListeners.length ? await readTls(tlsFiles) : undefined;
        const apiMaterial = apiFiles && apiServer ? await readApiTls(apiFiles) : undefined;
        if (dotMaterial) {
          for (const l of dotListeners) l.reload(dotMaterial);
          opts.tls = tlsFiles;
          log.info({ cert: tlsFiles!.certFile }, 'DoT certificate reloaded');
        }
        if (apiMaterial) {
          apiServer!.setSecureContext(apiSecureContext(apiMaterial));
          opts.apiTls = apiFiles;
          log.info({ cert: apiFiles!.certFile, clientCa: apiFiles!.clientCaFiles, clientCrl: apiFiles!.clientCrlFile }, 'API certificate, CAs and CRL reloaded');
        }
        if (o.cookieSecrets?.length && cookies) {
          cookies.setSecrets(o.cookieSecrets.map((h) => Buffer.from(h, 'hex')));
          log.info({ secrets: o.cookieSecrets.length }, 'DNS cookie secrets reloaded');
        }
        if (o.logLevel && o.logLevel !== log.level) {
          for (const l of loggers) l.level = o.logLevel;
          log.info({ logLevel: o.logLevel }, 'log level changed');
        }
      },
      apiUrl: () => apiUrl,
      feed,
      stats,
      transfer,
      db,
      stop: stopAll,
    };
  } catch (err) {
    // Said plainly for cluster/ (which reads no SQL errors): the database could not be used.
    if (isDatabaseUnavailable(err)) Object.assign(err as object, { databaseUnavailable: true });
    await stopAll();
    throw err;
  }
}

/** PEM blocks of one kind in a file (a CRL file may hold one list per CA). */
function pemBlocks(text: Buffer, label: string): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, 'g');
  return (text.toString('latin1').match(re) ?? []).map((b) => Buffer.from(b + '\n', 'latin1'));
}

async function readApiTls(f: ApiTlsFiles): Promise<ApiTlsMaterial> {
  const read = (file: string, what: string) => readFile(file).catch((err: Error & { code?: string }) => {
    throw new TlsFileError(`cannot read the API ${what} ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  const clientCa: Buffer[] = [];
  for (const file of f.clientCaFiles) {
    const certs = pemBlocks(await read(file, 'client CA file'), 'CERTIFICATE');
    if (!certs.length) throw new TlsFileError(`the API client CA file ${file} holds no PEM certificate`);
    clientCa.push(...certs);
  }
  let clientCrl: Buffer[] = [];
  if (f.clientCrlFile) {
    clientCrl = pemBlocks(await read(f.clientCrlFile, 'client CRL file'), 'X509 CRL');
    if (!clientCrl.length) throw new TlsFileError(`the API client CRL file ${f.clientCrlFile} holds no PEM revocation list (X509 CRL)`);
  }
  return { cert: await read(f.certFile, 'certificate'), key: await read(f.keyFile, 'key'), clientCa, clientCrl, clientCert: f.clientCert };
}
