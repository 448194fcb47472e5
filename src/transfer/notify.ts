// NOTIFY (RFC 1996) to the secondaries of every domain whose serial changed: one UDP message per
// secondary (signed with the domain's TSIG key when it has one), retried with exponential backoff
// until the secondary answers (RFC 1996 3.6), or given up after a number of tries. A newer serial
// replaces the pending notification of an older one.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import type { HostPort } from '../config.js';
import { OPCODE, TYPE, CLASS_IN, RCODE_NAMES } from '../dns/constants.js';
import { sign, type TsigKey } from '../dns/tsig.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Domain } from '../snapshot/domain.js';
import type { TransferSettings } from './access.js';
import { liveView } from '../pzc/policy.js';
import { splitName } from '../dns/name.js';

export interface NotifyOptions {
  /** First retry after this many ms; doubled each time up to maxDelayMs. */
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** Sends before giving up (RFC 1996 3.6 leaves the number to the implementation). */
  maxTries?: number;
}

interface Pending {
  readonly domain: string;
  readonly serial: number;
  readonly target: HostPort;
  readonly id: number;
  readonly message: Buffer;
  tries: number;
  timer: NodeJS.Timeout | undefined;
}

/** The NOTIFY message: opcode NOTIFY, AA, the apex SOA question, and the new SOA in the answer
 *  section as a hint (RFC 1996 3.7). */
export function notifyMessage(domain: Domain, id: number, nowMs: number): Buffer {
  const labels = splitName(domain.name).labels;
  const parts: number[] = [id >> 8, id & 0xff, (OPCODE.NOTIFY << 3) | 0x04, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const l of labels) { parts.push(l.length); for (let i = 0; i < l.length; i++) parts.push(l.charCodeAt(i)); }
  parts.push(0, TYPE.SOA >> 8, TYPE.SOA & 0xff, 0, CLASS_IN);
  const soa = liveView(domain, nowMs).soa?.rrs[0];
  if (soa) {
    // Owner: a pointer to the question name; rdata: MNAME and RNAME written out in full.
    const rdata: number[] = [];
    for (const p of soa.parts) {
      if (p instanceof Uint8Array) { for (const b of p) rdata.push(b); continue; }
      const all = p.relative ? [...p.labels, ...labels] : p.labels;
      for (const l of all) { rdata.push(l.length); for (let i = 0; i < l.length; i++) rdata.push(l.charCodeAt(i)); }
      rdata.push(0);
    }
    parts.push(0xc0, 12, TYPE.SOA >> 8, TYPE.SOA & 0xff, 0, CLASS_IN, 0, 0, 0, 0, rdata.length >> 8, rdata.length & 0xff, ...rdata);
    parts[7] = 1;
  }
  return Buffer.from(parts);
}

const key = (t: HostPort) => `${t.host}|${t.port}`;

export class Notifier {
  private readonly serials = new Map<number, number>();
  /** domain name -> target key -> pending notification. */
  private readonly pending = new Map<string, Map<string, Pending>>();
  private readonly sockets = new Map<'udp4' | 'udp6', dgram.Socket>();
  private stopped = false;
  /** Counters for /metrics and tests. */
  sent = 0;
  acked = 0;
  private readonly firstDelay: number;
  private readonly maxDelay: number;
  private readonly maxTries: number;

  constructor(private readonly settings: () => TransferSettings, private readonly log: Logger,
    private readonly now: () => number = Date.now, o: NotifyOptions = {}) {
    this.firstDelay = o.firstDelayMs ?? 1000;
    this.maxDelay = o.maxDelayMs ?? 60_000;
    this.maxTries = o.maxTries ?? 12;
  }

  /** Remembers the serials of a first snapshot without notifying (secondaries poll on start). */
  prime(snap: Snapshot): void {
    for (const d of this.configured(snap)) this.serials.set(d.id, d.serial);
  }

  /** Notifies the secondaries of every domain whose serial changed since the last call. Only
   *  domains with transfer settings are looked at: a change costs the number of configured
   *  domains, not of all domains (100,000 at the bench's scale). */
  changed(snap: Snapshot): void {
    const seen = new Set<number>();
    for (const d of this.configured(snap)) {
      seen.add(d.id);
      const before = this.serials.get(d.id);
      if (before === d.serial) continue;
      this.serials.set(d.id, d.serial);
      this.notifyDomain(d, undefined); // also when newly configured: a duplicate NOTIFY is harmless
    }
    for (const id of this.serials.keys()) if (!seen.has(id)) this.serials.delete(id);
  }

  /** The snapshot's domains that have transfer settings (matched by id: a name may be reused). */
  private *configured(snap: Snapshot): Iterable<Domain> {
    for (const [id, t] of this.settings().domains) {
      const d = snap.domains.get(t.name);
      if (d && d.id === id) yield d;
    }
  }

  /** New NOTIFY targets (settings changed) hear of the current serial at once. */
  settingsChanged(snap: Snapshot, before: TransferSettings, after: TransferSettings): void {
    for (const [id, t] of after.domains) {
      const old = new Set((before.domains.get(id)?.notify ?? []).map(key));
      const fresh = t.notify.filter((n) => !old.has(key(n)));
      if (fresh.length === 0) continue;
      const d = snap.domains.get(t.name);
      if (d && d.id === id) this.notifyDomain(d, fresh);
    }
  }

  /** Sends NOTIFY for the domain's current serial to its targets (or to `only`). */
  notifyDomain(d: Domain, only: readonly HostPort[] | undefined): void {
    if (this.stopped) return;
    const cfg = this.settings().domains.get(d.id);
    const targets = only ?? cfg?.notify ?? [];
    if (targets.length === 0) return;
    const k = cfg?.key ? this.settings().keys.get(cfg.key) : undefined;
    let byTarget = this.pending.get(d.name);
    if (!byTarget) this.pending.set(d.name, (byTarget = new Map()));
    for (const target of targets) {
      const old = byTarget.get(key(target));
      if (old) clearTimeout(old.timer);
      const id = Math.floor(Math.random() * 65536);
      let message = notifyMessage(d, id, this.now());
      if (k) message = this.signed(message, k);
      const p: Pending = { domain: d.name, serial: d.serial, target, id, message, tries: 0, timer: undefined };
      byTarget.set(key(target), p);
      this.send(p);
    }
  }

  private signed(message: Buffer, k: TsigKey): Buffer {
    return sign(message, k, { now: this.now() / 1000 }).message;
  }

  private socket(family: 'udp4' | 'udp6'): dgram.Socket {
    let s = this.sockets.get(family);
    if (!s) {
      s = dgram.createSocket(family);
      s.on('message', (msg, rinfo) => this.response(msg, rinfo));
      s.on('error', (err) => this.log.warn({ err: err.message }, 'notify socket error'));
      // exclusive: under serve --workers node:cluster would otherwise share one socket among the
      // workers (bound in the primary), and a secondary's reply could reach a worker that did not
      // send the NOTIFY and drop it.
      s.bind({ port: 0, exclusive: true });
      s.unref();
      this.sockets.set(family, s);
    }
    return s;
  }

  private send(p: Pending): void {
    if (this.stopped) return;
    p.tries++;
    this.sent++;
    this.socket(isIPv6(p.target.host) ? 'udp6' : 'udp4').send(p.message, p.target.port, p.target.host);
    if (p.tries >= this.maxTries) {
      p.timer = setTimeout(() => {
        this.log.warn({ domain: p.domain, serial: p.serial, target: `${p.target.host}:${p.target.port}`, tries: p.tries }, 'NOTIFY not acknowledged; giving up');
        this.forget(p);
      }, Math.min(this.maxDelay, this.firstDelay * 2 ** (p.tries - 1)));
      p.timer.unref();
      return;
    }
    p.timer = setTimeout(() => this.send(p), Math.min(this.maxDelay, this.firstDelay * 2 ** (p.tries - 1)));
    p.timer.unref();
  }

  private forget(p: Pending): void {
    const m = this.pending.get(p.domain);
    if (m?.get(key(p.target)) === p) m.delete(key(p.target));
    if (m && m.size === 0) this.pending.delete(p.domain);
  }

  /** RFC 1996 4.7: any answer from the secondary with our ID ends the retries. */
  private response(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < 12 || !(msg[2] & 0x80) || ((msg[2] >> 3) & 0x0f) !== OPCODE.NOTIFY) return;
    const id = msg.readUInt16BE(0);
    const from = rinfo.address.replace(/^::ffff:/i, '');
    for (const m of this.pending.values()) {
      for (const p of m.values()) {
        if (p.id !== id || p.target.port !== rinfo.port || p.target.host.replace(/^\[|\]$/g, '') !== from) continue;
        clearTimeout(p.timer);
        this.forget(p);
        this.acked++;
        const rcode = msg[3] & 0x0f;
        if (rcode !== 0) this.log.warn({ domain: p.domain, target: `${p.target.host}:${p.target.port}`, rcode: RCODE_NAMES[rcode] ?? rcode }, 'NOTIFY answered with an error');
        else this.log.debug({ domain: p.domain, serial: p.serial, target: `${p.target.host}:${p.target.port}` }, 'NOTIFY acknowledged');
        return;
      }
    }
  }

  /** Notifications not yet acknowledged (tests, metrics). */
  outstanding(): number {
    let n = 0;
    for (const m of this.pending.values()) n += m.size;
    return n;
  }

  stop(): void {
    this.stopped = true;
    for (const m of this.pending.values()) for (const p of m.values()) clearTimeout(p.timer);
    this.pending.clear();
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }
}
