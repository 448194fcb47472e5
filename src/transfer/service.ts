// The transfer side of the query path: TSIG on any signed query (RFC 8945), and AXFR (RFC 5936) /
// IXFR (RFC 1995) with access control. Called by server/handle-query.ts only for signed queries and
// transfer types, so ordinary queries never come here. An AXFR is produced from the snapshot,
// lazily, one message at a time; an IXFR reads the domain's history from the database first, which
// is why a transfer answer may be asynchronous (TCP only).
import type { Logger } from 'pino';
import { RCODE, TYPE, CLASS_IN } from '../dns/constants.js';
import type { Query } from '../dns/query.js';
import { encodeError } from '../answer/encode.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Domain } from '../snapshot/domain.js';
import { findTsig, verify, sign, TsigSigner, TSIG_ERROR, type TsigKey, type TsigRecord } from '../dns/tsig.js';
import { mayTransfer, type TransferSettings } from './access.js';
import { axfrRecords } from './axfr.js';
import { planIxfr, clientSerial, type IxfrHistory } from './ixfr.js';
import { packTransfer, MESSAGE_TARGET, type TransferRR } from './message.js';
import { soaRecord } from './axfr.js';
import { liveView } from '../pzc/policy.js';
import type { StreamAnswer, TransferPath } from '../server/handle-query.js';

type AnswerOut = StreamAnswer;

export interface TransferDeps {
  snapshot(): Snapshot;
  settings(): TransferSettings;
  /** Clock, ms. */
  now(): number;
  /** The IXFR history of a domain and of the zone it is served from. */
  history(domainId: number, zoneId: number): Promise<IxfrHistory>;
  log: Logger;
  /** Our UDP payload size, advertised in error answers' OPT. */
  maxUdp: number;
  /** Soft size of a transfer message (tests make it small). */
  messageTarget?: number;
}

interface Verified { key: TsigKey; mac: Buffer }

export class TransferService implements TransferPath {
  constructor(private readonly deps: TransferDeps) {}

  /** Answers a signed query or a transfer query. `plain` answers the query the ordinary way. */
  answer(msg: Uint8Array, q: Query, peer: string, tcp: boolean, plain: () => Buffer | null): AnswerOut {
    const d = this.deps;
    const t = findTsig(msg);
    if (t === 'formerr') return encodeError(msg, q.id, q.opcode, q.rd, RCODE.FORMERR, q, q.edns, d.maxUdp);
    let signed: Verified | undefined;
    if (t) {
      const key = d.settings().keys.get(t.keyName);
      const r = verify(msg, t, key, { now: d.now() / 1000 });
      if (!r.ok) {
        d.log.info({ peer, key: t.keyName, error: r.error }, 'TSIG check failed');
        return this.tsigError(msg, q, t, r.error, key);
      }
      signed = { key: key!, mac: t.mac };
    }
    if (q.qtype !== TYPE.AXFR && q.qtype !== TYPE.IXFR) {
      const out = plain();
      return out && signed ? this.signOne(out, signed) : out;
    }
    const refuse = (why: string, rcode: number = RCODE.REFUSED): Buffer => {
      d.log.info({ peer, qname: q.keys.join('.') + '.', qtype: q.qtype === TYPE.AXFR ? 'AXFR' : 'IXFR', why }, 'transfer refused');
      const out = encodeError(msg, q.id, q.opcode, q.rd, rcode, q, q.edns, d.maxUdp);
      return signed ? this.signOne(out, signed) : out;
    };
    if (q.qclass !== CLASS_IN) return refuse('class is not IN');
    // RFC 5936 4.2: AXFR over UDP is not defined.
    if (q.qtype === TYPE.AXFR && !tcp) return refuse('AXFR over UDP');
    const domain = d.snapshot().domains.get(q.keys.length ? q.keys.join('.') + '.' : '.');
    // RFC 5936 2.2.1: not authoritative for a zone of that name.
    if (!domain) return refuse('not a served domain apex', RCODE.NOTAUTH);
    const access = mayTransfer(d.settings().domains.get(domain.id), peer, signed?.key.name);
    if (!access.ok) return refuse(access.why);
    if (q.qtype === TYPE.AXFR) return this.stream(msg, q, domain, signed, 'AXFR', peer, () => axfrRecords(domain, d.now()));
    const serial = clientSerial(msg, q.questionEnd);
    if (serial === undefined) return refuse('IXFR without the client SOA', RCODE.FORMERR);
    // RFC 1995 2: over UDP, the current SOA alone tells the client to come back over TCP (or that
    // it is up to date).
    if (!tcp) return this.stream(msg, q, domain, signed, 'IXFR', peer, () => currentSoa(domain, d.now()), true);
    return this.stream(msg, q, domain, signed, 'IXFR', peer, async () => {
      const history = await d.history(domain.id, domain.zoneId);
      const plan = planIxfr(domain, serial, history, d.now());
      if (plan.kind === 'ixfr') return plan.records;
      if (plan.kind === 'current') return currentSoa(domain, d.now());
      d.log.debug({ domain: domain.name, from: serial, reason: plan.reason }, 'IXFR answered with AXFR');
      return axfrRecords(domain, d.now());
    });
  }

  /** The messages of a transfer, each signed when the query was (RFC 8945 5.3.1). Over UDP the
   *  one message is returned as is. */
  private stream(msg: Uint8Array, q: Query, domain: Domain, signed: Verified | undefined, kind: string, peer: string,
    records: () => TransferRR[] | undefined | Promise<TransferRR[] | undefined>, udp = false): AnswerOut {
    const d = this.deps;
    const target = d.messageTarget ?? MESSAGE_TARGET;
    const signer = signed ? new TsigSigner(signed.key, signed.mac, () => Math.floor(d.now() / 1000)) : undefined;
    const failed = () => {
      const out = encodeError(msg, q.id, q.opcode, q.rd, RCODE.SERVFAIL, q, q.edns, d.maxUdp);
      return signer ? signer.sign(out) : out;
    };
    const got = records();
    if (udp) {
      const list = got as TransferRR[] | undefined;
      if (!list) return failed();
      const [one] = [...packTransfer(msg, q, domain, list, 65535)];
      return signer ? signer.sign(one) : one;
    }
    const log = d.log;
    async function* messages(): AsyncGenerator<Buffer> {
      let list: TransferRR[] | undefined;
      try {
        list = await got;
      } catch (err) {
        log.warn({ domain: domain.name, err: (err as Error).message }, 'transfer failed');
        yield failed();
        return;
      }
      if (!list) { yield failed(); return; }
      let n = 0;
      for (const m of packTransfer(msg, q, domain, list, target)) {
        n++;
        yield signer ? signer.sign(m) : m;
      }
      log.info({ domain: domain.name, peer, kind, records: list.length, messages: n, signed: !!signer }, 'transfer sent');
    }
    return { messages: messages() };
  }

  private signOne(out: Buffer, v: Verified): Buffer {
    return sign(out, v.key, { now: this.deps.now() / 1000, prior: v.mac }).message;
  }

  /** RFC 8945 5.3.2: NOTAUTH with the TSIG error; BADKEY and BADSIG unsigned (an empty MAC), BADTIME
   *  signed, with our time in Other Data. A malformed MAC size is a FORMERR. */
  private tsigError(msg: Uint8Array, q: Query, t: TsigRecord, error: number | 'formerr', key: TsigKey | undefined): Buffer {
    const d = this.deps;
    if (error === 'formerr') return encodeError(msg, q.id, q.opcode, q.rd, RCODE.FORMERR, q, q.edns, d.maxUdp);
    const out = encodeError(msg, q.id, q.opcode, q.rd, RCODE.NOTAUTH, q, q.edns, d.maxUdp);
    const now = Math.floor(d.now() / 1000);
    const name = { name: t.keyName, algorithm: (key?.algorithm ?? t.algorithm) as TsigKey['algorithm'] };
    if (error === TSIG_ERROR.BADTIME && key) {
      const other = Buffer.alloc(6);
      other.writeUIntBE(now, 0, 6);
      return sign(out, key, { now: t.timeSigned, fudge: t.fudge, prior: t.mac, error, other }).message;
    }
    return sign(out, name, { now, error, unsigned: true }).message;
  }
}

function currentSoa(domain: Domain, nowMs: number): TransferRR[] | undefined {
  const view = liveView(domain, nowMs);
  return view.soa ? [soaRecord(view.soa, view.cap)] : undefined;
}
