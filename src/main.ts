// Composition root: config -> database (embedded or DATABASE_URL) -> migrate -> snapshot and change
// feed -> DNS listeners -> API -> scheduler. stop() undoes them in reverse order.
import type { Logger } from 'pino';
import type { Config, HostPort } from './config.js';
import { createPool, checkConnection, type Pool } from './store/db.js';
import { startEmbedded, type EmbeddedServer } from './store/embedded.js';
import { connectEmbedded } from './store/embedded-attach.js';
import { migrate } from './store/migrate.js';
import { ChangeFeed } from './store/change-feed.js';
import { listenUdp, type UdpListener } from './server/udp.js';
import { listenTcp, type TcpListener } from './server/tcp.js';
import { QueryStats } from './server/query-stats.js';
import { ResponseCache } from './server/response-cache.js';
import { ListenError } from './server/listen-error.js';
import { listenTls, type TlsListener, type TlsMaterial } from './server/tls.js';
import { readFile } from 'node:fs/promises';
import type { QueryContext } from './server/handle-query.js';
import { buildApp } from './api/app.js';
import { PzcScheduler } from './pzc/scheduler.js';
import { createLogger } from './log.js';
import { TransferSettingsHolder } from './transfer/settings.js';
import { TransferService } from './transfer/service.js';
import { Notifier, type NotifyOptions } from './transfer/notify.js';
import { Reannouncer, type ReannounceOptions } from './transfer/reannounce.js';
import { loadTransferSettings, ixfrSteps, reannounce } from './store/transfer.js';

export interface Database { url: string; pool: Pool; embedded: EmbeddedServer | undefined; close(): Promise<void> }

/** DATABASE_URL when set; else the embedded server in the data directory (attaching to one a
 *  running `glidepath serve` already started, so CLI commands work beside it). */
export async function openDatabase(cfg: Pick<Config, 'databaseUrl' | 'dataDir'>, log: Logger): Promise<Database> {
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
  const pool = createPool(url);
  try {
    await checkConnection(pool, url);
  } catch (err) {
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
  tcpMaxConnections?: number;
  /** Clock for the query path (tests inject one). */
  now?: () => number;
  /** The encoded-response cache (on by default; GLIDEPATH_RESPONSE_CACHE=off disables it). */
  responseCache?: boolean;
  /** DNS over TLS addresses (GLIDEPATH_DOT), with the PEM files of the certificate (chain) and key. */
  dot?: HostPort[];
  tls?: { certFile: string; keyFile: string };
  log?: Logger;
  /** Zone transfers: NOTIFY retry timing, the PZC re-announcement tolerance, the soft size of a
   *  transfer message (tests shrink them). */
  transfer?: { notify?: NotifyOptions; reannounce?: ReannounceOptions; messageTarget?: number };
}

export interface RunningServer {
  dnsPort(i?: number): number;
  /** Port of the i-th DNS-over-TLS listener. */
  dotPort(i?: number): number;
  /** Rereads the certificate and key files; new handshakes use them, open connections stay. */
  reloadTls(): Promise<void>;
  apiUrl(): string;
  feed: ChangeFeed;
  /** Transfer settings as the DNS side sees them, and the NOTIFY sender. */
  transfer: { settings: TransferSettingsHolder; notifier: Notifier };
  db: Database;
  stop(): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const log = opts.log ?? createLogger(opts.logLevel ?? 'info');
  const stops: Array<() => Promise<void>> = [];
  let stopping: Promise<void> | undefined;
  // Idempotent: steps run once, newest first (listeners before the feed before the database).
  const stopAll = () => (stopping ??= (async () => {
    for (const s of stops.reverse()) await s().catch((err: Error) => log.warn({ err: err.message }, 'stop step failed'));
  })());
  try {
    const db = await openDatabase({ databaseUrl: opts.databaseUrl, dataDir: opts.dataDir ?? './.glidepath' }, log);
    stops.push(() => db.close());
    const applied = await migrate(db.pool);
    if (applied.length) log.info({ applied }, 'migrations applied');

    // Transfer settings first: they name domains by id, and NOTIFY needs them from the first change.
    const xlog = log.child({ component: 'transfer' });
    const settings = new TransferSettingsHolder(() => loadTransferSettings(db.pool), xlog);
    await settings.reload();
    const notifier = new Notifier(() => settings.get(), xlog, Date.now, opts.transfer?.notify);
    stops.push(async () => notifier.stop());

    const feed = new ChangeFeed(db.url, db.pool, log.child({ component: 'journal' }));
    await feed.start();
    stops.push(() => feed.stop());
    // No await between start() and here: the feed's first catch-up cannot have run yet.
    notifier.prime(feed.snapshot());
    feed.onApplied = (_seq, entries) => {
      notifier.changed(feed.snapshot());
      if (entries.some((e) => e.entity === 'transfer')) void settings.reload();
    };
    settings.onChange = (before, after) => notifier.settingsChanged(feed.snapshot(), before, after);

    const stats = new QueryStats();
    const maxUdp = opts.udpMaxPayload ?? 1232;
    const ctx: QueryContext = {
      snapshot: () => feed.snapshot(),
      maxUdp,
      now: opts.now ?? Date.now,
      stats,
      // An injected clock (tests) means answers depend on more than the snapshot: no cache then.
      cache: opts.now || opts.responseCache === false ? undefined : new ResponseCache(200_000, maxUdp),
      transfer: new TransferService({
        snapshot: () => feed.snapshot(), settings: () => settings.get(), now: opts.now ?? Date.now,
        history: (id) => ixfrSteps(db.pool, id), log: xlog, maxUdp, messageTarget: opts.transfer?.messageTarget,
      }),
    };
    const dnsLog = log.child({ component: 'dns' });
    const ports: number[] = [];
    for (const addr of opts.dns) {
      // UDP first; with port 0 the TCP listener takes the port UDP was given.
      const udp: UdpListener = await listenUdp(addr, ctx, dnsLog);
      stops.push(() => udp.close());
      const tcp: TcpListener = await listenTcp({ host: addr.host, port: udp.port }, ctx, dnsLog,
        { idleMs: opts.tcpIdleMs ?? 10_000, maxConnections: opts.tcpMaxConnections ?? 1000 });
      stops.push(() => tcp.close());
      ports.push(udp.port);
      dnsLog.info({ address: addr.host, port: udp.port }, 'DNS listening (udp, tcp)');
    }

    const dotPorts: number[] = [];
    const dotListeners: TlsListener[] = [];
    if (opts.dot?.length) {
      if (!opts.tls) throw new Error('DNS over TLS needs GLIDEPATH_TLS_CERT and GLIDEPATH_TLS_KEY');
      const material = await readTls(opts.tls);
      for (const addr of opts.dot) {
        const dot = await listenTls(addr, ctx, dnsLog,
          { idleMs: opts.tcpIdleMs ?? 10_000, maxConnections: opts.tcpMaxConnections ?? 1000 }, material);
        stops.push(() => dot.close());
        dotListeners.push(dot);
        dotPorts.push(dot.port);
        dnsLog.info({ address: addr.host, port: dot.port }, 'DNS listening (tls)');
      }
    }

    const scheduler = new PzcScheduler(db.pool, log.child({ component: 'pzc' }));
    await scheduler.start();
    stops.push(() => scheduler.stop());
    const reannouncer = new Reannouncer(() => feed.snapshot(), () => settings.get(),
      (id, serial) => reannounce(db.pool, id, serial), xlog, opts.now ?? Date.now, opts.transfer?.reannounce);
    reannouncer.start();
    stops.push(() => reannouncer.stop());

    let apiUrl = '';
    if (opts.api) {
      const app = await buildApp({
        pool: db.pool, log: log.child({ component: 'api' }), adminToken: opts.adminToken,
        ready: () => feed.loaded, metrics: () => stats.render() + feedMetrics(feed),
      });
      stops.push(() => app.close());
      await app.listen({ host: opts.api.host, port: opts.api.port }).catch((err: Error & { code?: string }) => {
        throw new ListenError(opts.api!, 'tcp (API)', err);
      });
      const a = app.server.address();
      const port = typeof a === 'object' && a ? a.port : opts.api.port;
      const host = opts.api.host.includes(':') ? `[${opts.api.host}]` : opts.api.host;
      apiUrl = `http://${host}:${port}`;
      log.info({ url: apiUrl }, 'API listening');
    }
    return {
      dnsPort: (i = 0) => ports[i],
      dotPort: (i = 0) => dotPorts[i],
      reloadTls: async () => {
        if (!opts.tls || dotListeners.length === 0) return;
        const material = await readTls(opts.tls);
        for (const l of dotListeners) l.reload(material);
        log.info({ cert: opts.tls.certFile }, 'TLS certificate reloaded');
      },
      apiUrl: () => apiUrl,
      feed,
      transfer: { settings, notifier },
      db,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Reads the PEM files, saying which one failed and why. */
async function readTls(files: { certFile: string; keyFile: string }): Promise<TlsMaterial> {
  const read = (f: string, what: string) => readFile(f).catch((err: Error & { code?: string }) => {
    throw new Error(`cannot read the TLS ${what} ${f}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  return { cert: await read(files.certFile, 'certificate'), key: await read(files.keyFile, 'key') };
}

function feedMetrics(feed: ChangeFeed): string {
  const age = feed.caughtUpAt ? (Date.now() - feed.caughtUpAt) / 1000 : -1;
  return [
    '# HELP glidepath_snapshot_age_seconds Seconds since the snapshot last caught up with the journal.',
    '# TYPE glidepath_snapshot_age_seconds gauge',
    `glidepath_snapshot_age_seconds ${age}`,
    '# HELP glidepath_journal_seq Last journal sequence applied to the snapshot.',
    '# TYPE glidepath_journal_seq gauge',
    `glidepath_journal_seq ${feed.seq}`,
    '# HELP glidepath_journal_lag Journal entries announced but not yet applied to the snapshot.',
    '# TYPE glidepath_journal_lag gauge',
    `glidepath_journal_lag ${Math.max(0, feed.notifiedSeq - feed.seq)}`,
    '# HELP glidepath_domains Domains served.',
    '# TYPE glidepath_domains gauge',
    `glidepath_domains ${feed.snapshot().domains.size}`,
    '',
  ].join('\n');
}
