// Follows the change journal. LISTEN is only a hint that something changed: the feed always re-reads
// the journal from the last sequence it applied, so a lost notification or a lost connection can
// delay a change but never drop it. While the database is away the server keeps answering from the
// snapshot it has, reconnects with a short backoff and jitter (first try within 75 ms, then at most
// every 750 ms, so a restarted database is followed within about a second), and catches up at once.
// The loss of the listener is logged once, and its return once.
//
// Without LISTEN (an edge on a hot standby, which refuses LISTEN: PostgreSQL manual, "Hot Standby")
// the same catch-up simply runs every `pollMs`: one indexed read of the journal after the last
// applied sequence. Sequence numbers become visible in commit order on the primary, and a standby
// replays commits in that same order, so polling by sequence misses and reorders nothing there.
import type { Logger } from 'pino';
import type { Pool } from '../store/db.js';
import { loadAll, loadDelta, type JournalEntry } from '../store/load.js';
import { JournalListener, CHANNEL } from '../store/journal-listen.js';
import { SnapshotBuilder, applyDelta, compileLarge, largeZones, type BadRecordHandler } from '../snapshot/build.js';
import type { CompiledZone } from '../snapshot/zone.js';
import { Snapshot } from '../snapshot/snapshot.js';
import type { KekHolder } from '../store/key-file.js';

export { CHANNEL };

/** Reconnect backoff: the first retry comes after 25-75 ms, then the base doubles up to 0.5 s; each
 *  delay is jittered by ±50 % (so at most 750 ms: a database back is followed within a second), so
 *  that many workers do not reconnect in step. */
const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 500;
/** Domain entries built per step while the first load waits for a batch: about 2 ms, so a batch
 *  that arrives waits little for the step to end. */
const ENTRIES_PER_STEP = 500;

export class ChangeFeed {
  private snap: Snapshot = Snapshot.empty();
  /** Last journal sequence reflected in the snapshot. */
  seq = 0;
  loaded = false;
  /** Wall-clock ms when the snapshot last caught up with the journal. */
  caughtUpAt = 0;
  /** Highest journal sequence announced by NOTIFY: how far behind the snapshot is, for /metrics. */
  notifiedSeq = 0;
  private listener: JournalListener | undefined;
  private running: Promise<void> | undefined;
  /** The last catch-up failed (the database is away): later failures are logged quietly. */
  private failing = false;
  private again = false;
  private stopped = false;
  /** A fold of the snapshot's maps is in progress (foldWhenDue). */
  private folding = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private backoff = FIRST_RETRY_MS;
  /** Wall-clock ms when the listener was lost, for the one line saying it is back. */
  private lostAt = 0;
  private readonly onBad: BadRecordHandler;
  /** Called after every swap with the journal entries just applied (for the response cache, NOTIFY…). */
  onApplied: (seq: number, entries: readonly JournalEntry[]) => void = () => undefined;
  /** Called each time the listener is back after a loss (or first connects after startFrom). */
  onReconnected: () => void = () => undefined;

  constructor(private readonly url: string, private readonly pool: Pool, private readonly log: Logger,
    private readonly pollMs = 5000, private readonly listen = true, private readonly kek?: KekHolder) {
    this.onBad = (zoneId, r, err) => this.log.warn({ zoneId, owner: r.owner, type: r.type, err: err.message }, 'record skipped: it does not parse');
  }

  snapshot(): Snapshot { return this.snap; }

  async start(): Promise<void> {
    // LISTEN first, then load: a change committed in between is announced and caught by seq.
    if (this.listen) await this.connect();
    await this.loadEverything();
    this.loaded = true;
    this.pollTimer = setInterval(() => this.kick(), this.pollMs);
    this.pollTimer.unref();
    this.kick();
  }

  /** Resolves once no catch-up runs: the one start() began, and any it chained. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Starts from a snapshot handed over by a sibling (the database may be down): answers from it at
   *  once, and connects and catches up from `seq` in the background, retrying until it can. */
  startFrom(snap: Snapshot, seq: number): void {
    this.snap = snap;
    this.seq = seq;
    this.loaded = true;
    this.caughtUpAt = Date.now();
    this.lostAt = Date.now();
    this.log.info({ domains: snap.domains.size, seq }, 'snapshot taken over from a sibling; connecting to the journal');
    this.pollTimer = setInterval(() => this.kick(), this.pollMs);
    this.pollTimer.unref();
    if (this.listen) {
      this.backoff = 0;
      this.scheduleReconnect();
    } else {
      this.kick();
    }
  }

  /** A whole new snapshot (at start, and when retention pruned journal rows this feed had not read). */
  private async loadEverything(): Promise<void> {
    const t0 = Date.now();
    const builder = new SnapshotBuilder(this.onBad);
    let zones = 0;
    // The domains' entries are built while PostgreSQL prepares each batch of zones.
    const all = await loadAll(this.pool, (batch) => { builder.addZones(batch); zones += batch.size; }, this.kek,
      (domains) => builder.prepareDomains(domains, ENTRIES_PER_STEP));
    this.snap = builder.finish(all.domains, all.down);
    this.seq = all.seq;
    this.caughtUpAt = Date.now();
    this.log.info({ domains: all.domains.length, zones, seq: this.seq, ms: Date.now() - t0 }, 'snapshot loaded');
  }

  private async connect(): Promise<void> {
    const client: JournalListener = new JournalListener(this.url, {
      notified: (n) => {
        if (n > this.notifiedSeq) this.notifiedSeq = n;
        this.kick();
      },
      lost: (err) => this.lost(client, err),
    });
    await client.open();
    this.listener = client;
    this.backoff = FIRST_RETRY_MS;
  }

  private lost(client: JournalListener, err: Error): void {
    if (this.listener !== client || this.stopped) return;
    this.listener = undefined;
    this.lostAt = Date.now();
    this.log.warn({ err: err.message }, 'journal listener lost; answering from the current snapshot while reconnecting');
    void client.close();
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    const delay = this.backoff * (0.5 + Math.random());
    this.backoff = Math.min(Math.max(this.backoff * 2, FIRST_RETRY_MS), MAX_RETRY_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopped) return;
      this.connect().then(() => {
        if (this.stopped) { void this.stop(); return; }
        this.log.info({ downSeconds: Math.round((Date.now() - this.lostAt) / 100) / 10 }, 'journal listener reconnected; catching up');
        this.kick();
        this.onReconnected();
      }, (err: Error) => {
        // Every 0.75 s at most while the database is away: not a warning each time.
        this.log.debug({ err: err.message }, 'journal listener reconnect failed; retrying');
        this.scheduleReconnect();
      });
    }, delay);
  }

  /** Runs a catch-up now, or right after the one in progress. */
  kick(): void {
    if (!this.loaded || this.stopped) return;
    if (this.running) { this.again = true; return; }
    this.running = this.catchUp().then(() => {
      if (this.failing) this.log.info('journal catch-up works again');
      this.failing = false;
    }, (err: Error) => {
      // Polling every 100 ms while the database is away: one warning, not ten a second.
      this.log[this.failing ? 'debug' : 'warn']({ err: err.message }, 'journal catch-up failed; answering from the current snapshot, will retry');
      this.failing = true;
      if (this.listen && !this.listener) this.scheduleReconnect();
    }).finally(() => {
      this.running = undefined;
      if (this.again) { this.again = false; this.kick(); }
    });
  }

  /** Folds the snapshot's maps in steps between answers once a map's layer of changes has
   *  outgrown it (layered-map.ts): at a million domains a fold inside a change copied a million
   *  entries, about a second during which this process neither answered nor applied edits.
   *  Changes go on meanwhile; at the end the snapshot of that moment moves onto the folded maps. */
  private foldWhenDue(): void {
    if (this.folding || this.stopped || !this.snap.foldDue) return;
    this.folding = true;
    const steps = this.snap.foldSteps();
    const step = (): void => {
      if (this.stopped) { this.folding = false; return; }
      const r = steps.next();
      if (!r.done) { setImmediate(step); return; }
      this.folding = false;
      const moved = r.value(this.snap);
      if (moved) this.snap = moved;
      this.foldWhenDue(); // changes during the fold may have made another one due
    };
    setImmediate(step);
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      const delta = await loadDelta(this.pool, this.seq, this.snap.zones, undefined, this.kek); // its has(): no copy of every zone id
      if (!delta) break;
      if (delta === 'reload') {
        this.log.warn({ seq: this.seq }, 'journal rows after this snapshot were pruned; reloading everything');
        await this.loadEverything();
        // Transfer settings may have changed too: say so, as a journal entry would.
        this.onApplied(this.seq, [{ seq: this.seq, entity: 'transfer', action: 'reload', zone_id: null, domain_name: null, details: {} }]);
        continue;
      }
      // A large zone (an upload) compiles in steps, the event loop turning between them: the
      // answers of this process go on meanwhile, from the snapshot before it.
      let compiled: Map<number, CompiledZone> | undefined;
      for (const id of largeZones(delta.zones)) {
        const steps = compileLarge(id, delta.zones.get(id)!, this.onBad);
        let r = steps.next();
        while (!r.done) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          r = steps.next();
        }
        (compiled ??= new Map()).set(id, r.value);
      }
      this.snap = applyDelta(this.snap, { ...delta, compiled }, this.onBad);
      this.foldWhenDue();
      this.seq = delta.seq;
      this.log.debug({ seq: delta.seq, entries: delta.entries.length }, 'journal applied');
      this.onApplied(delta.seq, delta.entries);
    }
    this.caughtUpAt = Date.now();
  }

  /** Resolves once the snapshot reflects at least `seq`: an RFC 2136 UPDATE is answered only once
   *  its change is served here (update/service.ts, through main.ts); and tests. */
  async waitFor(seq: number, timeoutMs = 5000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (this.seq < seq) {
      if (Date.now() > end) return false;
      this.kick();
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.retryTimer);
    await this.running;
    const l = this.listener;
    this.listener = undefined;
    await l?.close();
  }
}
