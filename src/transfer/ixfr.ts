// IXFR (RFC 1995) from the history the database keeps (migrations/008_scale.sql): the zone's
// record differences (zone_history) and the domain's own serial changes (ixfr_steps), put together
// by the served serial = zone serial + the domain's offset (migrations/README.md). The answer is
// the differences from the client's serial to the served one, one difference sequence per serial
// change (RFC 1995 4: old SOA, deleted RRs, new SOA, added RRs), between two copies of the current
// SOA. Falls back to AXFR (RFC 1995 4: "the server may... send the entire zone") whenever the
// history cannot tell the exact difference. Pure.
import { TYPE } from '../dns/constants.js';
import { soaPartsWithSerial, type Domain } from '../snapshot/domain.js';
import { parseRdata } from '../dns/rdata.js';
import { skipName } from '../dns/query.js';
import { resolveZoneName } from '../dns/name.js';
import { compileName, type WirePart } from '../snapshot/zone.js';
import { isCompressibleType as compressible } from '../dns/rdata.js';
import { liveView } from '../pzc/policy.js';
import type { TransferRR } from './message.js';
import { soaRecord } from './axfr.js';
import type { IxfrStep, JournalRecord, DomainStep, ZoneStep, IxfrHistory } from '../store/transfer.js';

// The history's row shape is the store's; kept importable from here.
export type { IxfrStep, JournalRecord, DomainStep, ZoneStep, IxfrHistory };

const add32 = (a: number, b: number) => (a + b) % 0x100000000;
const sub32 = (a: number, b: number) => ((a - b) % 0x100000000 + 0x100000000) % 0x100000000;

/** The domain's serial changes from `client` to the served serial, oldest first, or why they
 *  cannot be told. Walks back from the served serial: the domain's latest own step when it ends
 *  at the served serial and the current zone serial, else the zone step ending at the zone serial,
 *  shifted by the offset in force. */
export function domainChain(domain: Domain, client: number, h: IxfrHistory): IxfrStep[] | string {
  let cur = domain.serial;
  let zs = domain.zone.serial;
  let offset = sub32(cur, zs);
  const zoneByTo = new Map<number, ZoneStep>();
  for (const z of h.zone) zoneByTo.set(z.serial_to, z); // the latest wins
  let di = h.domain.length - 1;
  const chain: IxfrStep[] = [];
  while (cur !== client) {
    if (chain.length > h.domain.length + h.zone.length) return 'a loop in the history';
    const ds = h.domain[di];
    if (ds && ds.serial_to === cur && ds.zone_id === domain.zoneId && ds.zone_serial === zs) {
      if (!ds.diffable) return 'a change that is not a record difference';
      chain.push({ serial_from: ds.serial_from, serial_to: ds.serial_to, diffable: true, changes: [] });
      cur = ds.serial_from;
      offset = sub32(cur, zs);
      di--;
      continue;
    }
    const z = zoneByTo.get(zs);
    if (!z) return 'serial not in the history';
    if (z.diffable === false) return 'a change through an included zone (or of a zone with includes)';
    zoneByTo.delete(zs);
    chain.push({ serial_from: add32(z.serial_from, offset), serial_to: cur, diffable: true, changes: z.changes });
    zs = z.serial_from;
    cur = add32(zs, offset);
  }
  return chain.reverse();
}

export type IxfrPlan =
  | { kind: 'axfr'; reason: string }
  /** The client has the current serial (or a newer one): the answer is the SOA alone (RFC 1995 2). */
  | { kind: 'current' }
  | { kind: 'ixfr'; records: TransferRR[] };

/** RFC 1982 3.2: s1 > s2 in serial number arithmetic. */
export function serialGreater(s1: number, s2: number): boolean {
  return (s1 < s2 && s2 - s1 > 2 ** 31) || (s1 > s2 && s1 - s2 < 2 ** 31);
}

const isSoa = (r: JournalRecord) => r[1] === TYPE.SOA && r[0] === '@';
const keyOf = (r: JournalRecord) => `${r[0]}\u0000${r[1]}\u0000${r[2]}\u0000${r[3]}`;

/** The net effect of a step's statements: a record removed then added again is no change. */
function netChange(step: IxfrStep): { added: JournalRecord[]; removed: JournalRecord[] } {
  const added = new Map<string, JournalRecord>();
  const removed = new Map<string, JournalRecord>();
  for (const c of step.changes) {
    for (const r of c.removed) { const k = keyOf(r); if (added.has(k)) added.delete(k); else removed.set(k, r); }
    for (const r of c.added) { const k = keyOf(r); if (removed.has(k)) removed.delete(k); else added.set(k, r); }
  }
  return { added: [...added.values()], removed: [...removed.values()] };
}

function toTransfer(r: JournalRecord): TransferRR | undefined {
  try {
    const parts: WirePart[] = parseRdata(r[1], r[3], resolveZoneName).map((p) => (p instanceof Uint8Array ? p : compileName(p.labels, p.relative)));
    const owner = resolveZoneName(r[0]);
    return { owner: compileName(owner.labels, true), type: r[1], ttl: r[2], parts, compress: compressible(r[1]) };
  } catch {
    return undefined; // a record that does not parse is not served either (snapshot/zone.ts)
  }
}

/** An SOA record from stored rdata with the domain serial patched in (the served serial is the
 *  domain's, snapshot/domain.ts). */
function soaFrom(r: JournalRecord, serial: number): TransferRR | undefined {
  const t = toTransfer(r);
  if (!t) return undefined;
  const parts = soaPartsWithSerial(t.parts, serial);
  return { ...t, parts, compress: compressible(TYPE.SOA) };
}

function withSerial(soa: TransferRR, serial: number): TransferRR {
  return {
    ...soa,
    parts: soa.parts.map((p) => {
      if (p instanceof Uint8Array && p.length === 20) {
        const copy = new Uint8Array(p);
        new DataView(copy.buffer).setUint32(0, serial >>> 0);
        return copy;
      }
      return p;
    }),
  };
}

/** Plans the answer to an IXFR from `clientSerial` for `domain` at `nowMs`, given its history. */
export function planIxfr(domain: Domain, clientSerial: number, history: IxfrHistory, nowMs: number): IxfrPlan {
  const view = liveView(domain, nowMs);
  if (!view.soa) return { kind: 'axfr', reason: 'no SOA' };
  // While a switch or an RRset change is pending, TTLs are capped by the clock: a difference of
  // records would leave the secondary's older caps in place. Send the whole domain.
  if (domain.pzc || view.zone.pending.size > 0) return { kind: 'axfr', reason: 'change pending' };
  const current = domain.serial;
  if (clientSerial === current || serialGreater(clientSerial, current)) return { kind: 'current' };
  const chain = domainChain(domain, clientSerial, history);
  if (typeof chain === 'string') return { kind: 'axfr', reason: chain };
  const currentSoa = soaRecord(view.soa, Infinity);
  // The SOA record before each step, walking back from the current one: a step that replaced the
  // zone's SOA record says what it was before.
  const nets = chain.map(netChange);
  const before: TransferRR[] = new Array<TransferRR>(chain.length);
  let after = currentSoa;
  for (let k = chain.length - 1; k >= 0; k--) {
    const old = nets[k].removed.find(isSoa);
    const b = old ? soaFrom(old, chain[k].serial_from) : withSerial(after, chain[k].serial_from);
    if (!b) return { kind: 'axfr', reason: 'an earlier SOA does not parse' };
    before[k] = b;
    after = b;
  }
  const records: TransferRR[] = [currentSoa];
  for (let k = 0; k < chain.length; k++) {
    records.push(before[k]);
    for (const r of nets[k].removed) if (!isSoa(r)) { const t = toTransfer(r); if (t) records.push(t); }
    records.push(k + 1 < chain.length ? withSerial(before[k + 1], chain[k].serial_to) : currentSoa);
    for (const r of nets[k].added) if (!isSoa(r)) { const t = toTransfer(r); if (t) records.push(t); }
  }
  records.push(currentSoa);
  return { kind: 'ixfr', records };
}

/** RFC 1995 3: the serial of the SOA the client put in the authority section of its IXFR query;
 *  undefined when there is none (FORMERR). */
export function clientSerial(msg: Uint8Array, questionEnd: number): number | undefined {
  const an = (msg[6] << 8) | msg[7];
  const ns = (msg[8] << 8) | msg[9];
  let p = questionEnd;
  for (let i = 0; i < an + ns; i++) {
    p = skipName(msg, p);
    if (p < 0 || p + 10 > msg.length) return undefined;
    const type = (msg[p] << 8) | msg[p + 1];
    const rdlen = (msg[p + 8] << 8) | msg[p + 9];
    const rdata = p + 10;
    p = rdata + rdlen;
    if (p > msg.length) return undefined;
    if (i < an || type !== TYPE.SOA) continue;
    let q = skipName(msg, rdata);
    if (q < 0) return undefined;
    q = skipName(msg, q);
    if (q < 0 || q + 20 > p) return undefined;
    return ((msg[q] << 24) >>> 0) + ((msg[q + 1] << 16) | (msg[q + 2] << 8) | msg[q + 3]);
  }
  return undefined;
}
