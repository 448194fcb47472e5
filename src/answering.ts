// The answering side of a Glidepath process, split from the composition root (main.ts) so that each
// stays readable: transfer settings, snapshot and change feed, the query context, the UDP/TCP and
// DoT listeners, and what follows the snapshot for secondaries (NOTIFY, PZC re-announcements).
import type { Logger } from 'pino';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Database, ServerOptions } from './main.js';
import { ResponseRateLimiter } from './server/rrl.js';
import { Cookies } from './server/cookies.js';
import type { NodeName } from './config.js';
import { readSeed } from './feed/seed.js';
import { ChangeFeed } from './feed/change-feed.js';
import { listenDns } from './server/dns-listeners.js';
import { listenUdp } from './server/udp.js';
import { listenTcp } from './server/tcp.js';
import { QueryStats } from './server/query-stats.js';
import { ResponseCache } from './server/response-cache.js';
import { listenTls, type TlsListener, type TlsMaterial } from './server/tls.js';
import type { QueryContext } from './server/handle-query.js';
import { TransferSettingsHolder } from './transfer/settings.js';
import { TransferService } from './transfer/service.js';
import { Notifier } from './transfer/notify.js';
import { Reannouncer } from './transfer/reannounce.js';
import { loadTransferSettings, ixfrHistory, reannounce } from './store/transfer.js';
import { untilItWorks } from './feed/retry.js';
import type { ServerIdentity } from './answer/chaos.js';
import { SignatureCache } from './dnssec/sign.js';
import { KekHolder } from './store/key-file.js';
import { UpdateService } from './update/service.js';
import { runUpdate } from './store/update.js';
import { createPool } from './store/db.js';
import { writeDomainCounts, tenantTotals } from './store/query-stats.js';
import { DomainCounts } from './server/domain-counts.js';
import { StatsFlusher } from './server/stats-flusher.js';
import { compactHeap, COMPACT_FROM_DOMAINS } from './server/compact-heap.js';
import { DEFAULT_STATS } from './config.js';

/** ServerOptions' node identity as the query path wants it (the NSID octets made once). */
export function serverIdentity(node: NodeName | undefined): ServerIdentity | undefined {
  return node ? { nodeId: node.id, nsid: Buffer.from(node.id, 'utf8'), version: node.version } : undefined;
}

export interface TransferSide { settings: TransferSettingsHolder; notifier: Notifier }

/** The answering side: transfer settings, snapshot and change feed, the UDP/TCP and DoT listeners,
 *  and what follows the snapshot for secondaries (NOTIFY, the PZC re-announcer). Under `serve
 *  --workers` every worker runs all of it: each NOTIFYs what its snapshot shows (duplicates are
 *  harmless, as with several servers on one database), and re-announcement is a compare-and-set
 *  in the database, so only one worker bumps a serial. */
export async function startAnswering(db: Database, opts: ServerOptions, stats: QueryStats, child: (c: string) => Logger,
  stops: Array<() => Promise<void>>, ports: number[], dotPorts: number[], dotListeners: TlsListener[], kek: KekHolder): Promise<{ feed: ChangeFeed; transfer: TransferSide; cookies: Cookies | undefined }> {
  // Transfer settings first: they name domains by id, and NOTIFY needs them from the first change.
  const xlog = child('transfer');
  const settings = new TransferSettingsHolder(() => loadTransferSettings(db.pool), xlog);
  const edge = opts.edge;
  // An edge waits out a database that is away (it may be a standby being restarted).
  const retry = <T>(fn: () => Promise<T>, what: string) => (edge ? untilItWorks(fn, child('journal'), what) : fn());
  await retry(() => settings.reload(), 'loading transfer settings');
  const notifier = new Notifier(() => settings.get(), xlog, Date.now, opts.transfer?.notify);
  stops.push(async () => notifier.stop());

  // A hot standby refuses LISTEN: an edge reads the journal every pollMs instead.
  const flog = child('journal');
  const feed = edge ? new ChangeFeed(db.url, db.pool, flog, edge.pollMs, false, kek) : new ChangeFeed(db.url, db.pool, flog, 5000, true, kek);
  stops.push(() => feed.stop());
  if (opts.seed) {
    // Handed over by a sibling because the database is down (feed/seed.ts): answer from it now.
    const { snap, seq } = await readSeed(opts.seed, (zoneId, r, err) => flog.warn({ zoneId, owner: r.owner, type: r.type, err: err.message }, 'record skipped: it does not parse'));
    feed.startFrom(snap, seq);
  } else {
    await retry(() => feed.start(), 'loading the snapshot');
  }
  // A large first load leaves much garbage: collected now, not in one long pause while answering.
  if (feed.snapshot().entries.size >= COMPACT_FROM_DOMAINS) flog.info(compactHeap(), 'heap compacted after the first load');
  // Transfer settings missed while the database was away (a seeded start has none yet).
  feed.onReconnected = () => { void settings.reload(); };
  // An edge may have started before the schema reached its standby (the first load then failed,
  // quietly): the settings are read again now that the snapshot could be.
  if (edge) await settings.reload();
  // No await between start() and here: the feed's first catch-up cannot have run yet.
  // NOTIFY to secondaries is the primary side's: an edge sends none (the secondaries' ACLs name
  // the primary), and re-announcing writes, which an edge never does.
  if (!edge) notifier.prime(feed.snapshot());
  // Built before the feed's hooks, which tell it when domains went away.
  const maxUdp = opts.udpMaxPayload ?? 1232;
  // An injected clock (tests) means answers depend on more than the snapshot: no cache then.
  const cache = opts.now || opts.responseCache === false ? undefined : new ResponseCache(200_000, maxUdp);
  feed.onApplied = (_seq, entries) => {
    if (!edge) notifier.changed(feed.snapshot());
    if (entries.some((e) => e.entity === 'transfer')) void settings.reload();
    // A deleted domain or zone, or a domain moved off its zone: cached answers must not keep them.
    if (cache && entries.some((e) => (e.entity === 'domain' && (e.action === 'delete' || e.details?.old_zone_id !== undefined)) || (e.entity === 'zone' && e.action === 'delete'))) {
      cache.forgetStale(feed.snapshot());
    }
  };
  if (!edge) settings.onChange = (before, after) => notifier.settingsChanged(feed.snapshot(), before, after);

  const signatures = new SignatureCache(); // one per process: answers and transfers share signatures
  const dnsLog = child('dns');
  const c = opts.cookies ?? { enabled: true, secrets: [], require: false };
  // Without a configured secret, one made here: valid in this process only (the primary of `serve
  // --workers` makes one and hands it to every worker).
  const cookies = c.enabled ? new Cookies(c.secrets.length ? c.secrets.map((h) => Buffer.from(h, 'hex')) : [randomBytes(16)], c.require) : undefined;
  const rrl = opts.rrl && opts.rrl.mode !== 'off' ? new ResponseRateLimiter(opts.rrl) : undefined;
  if (rrl) {
    rrl.onLimited = (network, cls, name) => dnsLog.info({ network, class: cls, name, mode: opts.rrl!.mode }, 'rate limit reached');
    stats.rrl = rrl.counts;
  }
  const domainCounts = startDomainCounts(db, opts, stats, child('stats'), stops);
  const ctx: QueryContext = {
    snapshot: () => feed.snapshot(),
    maxUdp,
    now: opts.now ?? Date.now,
    stats,
    domainCounts,
    cache,
    signatures,
    transfer: new TransferService({
      snapshot: () => feed.snapshot(), settings: () => settings.get(), now: opts.now ?? Date.now,
      history: (id, zoneId) => ixfrHistory(db.pool, id, zoneId), log: xlog, maxUdp, messageTarget: opts.transfer?.messageTarget, signatures,
      refusalLogMs: opts.transfer?.refusalLogMs,
    }),
    cookies,
    rrl,
    // RFC 2136 UPDATE: written through this process's pool (a worker has its own), answered once
    // this process's snapshot holds the change. An edge reads a standby and writes nothing: NOTIMP
    // there (RFC 2136 6: updates go to the primary).
    update: edge ? undefined : new UpdateService({
      keys: () => settings.get().keys, run: (actor, domain, refused, decide) => runUpdate(db.pool, actor, domain, refused, decide),
      waitFor: (seq) => feed.waitFor(seq, 2000), now: opts.now ?? Date.now, log: child('update'), maxUdp,
    }),
    identity: serverIdentity(opts.node),
  };
  // Answer only once the changes committed while the snapshot loaded are applied: a worker that
  // loads after its siblings (serve --workers N loads them in turn) or in a rolling restart would
  // otherwise answer for a moment from an older state than theirs (REFUSED for a domain created
  // meanwhile).
  await feed.settled();
  for (const addr of opts.dns) {
    const { port, udp, tcp } = await listenDns(addr, ctx, dnsLog,
      { idleMs: opts.tcpIdleMs ?? 10_000, messageMs: opts.tcpMessageMs ?? 2000, maxConnections: opts.tcpMaxConnections ?? 1000 },
      { udp: (a, c, l) => listenUdp(a, c, l, opts.udpIo), tcp: listenTcp });
    stops.push(() => udp.close(), () => tcp.close());
    ports.push(port);
    dnsLog.info({ address: addr.host, port, udpIo: udp.io }, 'DNS listening (udp, tcp)');
  }

  if (opts.dot?.length) {
    if (!opts.tls) throw new Error('DNS over TLS needs GLIDEPATH_TLS_CERT and GLIDEPATH_TLS_KEY');
    const material = await readTls(opts.tls);
    for (const addr of opts.dot) {
      const dot = await listenTls(addr, ctx, dnsLog,
        { idleMs: opts.tcpIdleMs ?? 10_000, messageMs: opts.tcpMessageMs ?? 2000, maxConnections: opts.tcpMaxConnections ?? 1000 }, material);
      stops.push(() => dot.close());
      dotListeners.push(dot);
      dotPorts.push(dot.port);
      dnsLog.info({ address: addr.host, port: dot.port }, 'DNS listening (tls)');
    }
  }

  if (edge) return { feed, transfer: { settings, notifier }, cookies };
  const reannouncer = new Reannouncer(() => feed.snapshot(), () => settings.get(),
    (id, serial) => reannounce(db.pool, id, serial), xlog, opts.now ?? Date.now, opts.transfer?.reannounce);
  reannouncer.start();
  stops.push(() => reannouncer.stop());
  return { feed, transfer: { settings, notifier }, cookies };
}

/** A certificate, key, CA or CRL file that cannot be read or holds no PEM: one line for the operator. */
export class TlsFileError extends Error {}

/** Reads the PEM files, saying which one failed and why. */
export async function readTls(files: { certFile: string; keyFile: string }): Promise<TlsMaterial> {
  const read = (f: string, what: string) => readFile(f).catch((err: Error & { code?: string }) => {
    throw new TlsFileError(`cannot read the TLS ${what} ${f}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  return { cert: await read(files.certFile, 'certificate'), key: await read(files.keyFile, 'key') };
}

/** Per-domain query statistics of this answering process: counted by the query path, written by a
 *  flusher stopped after the listeners (stops run in reverse), so its last batch has every answer.
 *  Each process (every worker of `serve --workers`, every node) upserts its own batches, which
 *  add up in the database. An edge reads a standby: it writes to GLIDEPATH_STATS_DATABASE_URL (the
 *  primary) when set, else it only sums per tenant for /metrics. */
function startDomainCounts(db: Database, opts: ServerOptions, stats: QueryStats, log: Logger,
  stops: Array<() => Promise<void>>): DomainCounts | undefined {
  const st = opts.stats ?? DEFAULT_STATS;
  if (!st.enabled) return undefined;
  let pool = db.pool;
  if (opts.edge && st.databaseUrl) {
    const own = createPool(st.databaseUrl, 2, { connectMs: opts.db?.connectMs ?? 2000 });
    stops.push(() => own.end().catch(() => undefined));
    pool = own;
  }
  const write = opts.edge && !st.databaseUrl ? (_m: Date, b: Parameters<typeof tenantTotals>[1]) => tenantTotals(pool, b)
    : (m: Date, b: Parameters<typeof writeDomainCounts>[2]) => writeDomainCounts(pool, m, b);
  const counts = new DomainCounts();
  const flusher = new StatsFlusher(counts, write, (t) => stats.addTenants(t), log, st.flushMs);
  flusher.start();
  stops.push(() => flusher.stop());
  return counts;
}
