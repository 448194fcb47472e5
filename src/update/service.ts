// Dynamic UPDATE (RFC 2136) as the query path sees it: handle-query.ts hands every opcode-UPDATE
// message here, over UDP and TCP alike. TSIG is required (RFC 8945; unsigned: REFUSED); the key
// must be granted by the domain's update policy; prerequisites (3.2), permissions (3.3) and the
// update (3.4) run in one database transaction (src/store/update.ts). The answer waits until this
// process's snapshot holds the change, so a query right after the response sees it.
import type { Logger } from 'pino';
import { RCODE, CLASS_IN, TYPE, RCODE_NAMES } from '../dns/constants.js';
import type { Query } from '../dns/query.js';
import { findTsig, verify, type TsigKey } from '../dns/tsig.js';
import { decodeUpdate } from '../dns/update.js';
import { splitName, nameKey } from '../dns/name.js';
import { encodeError } from '../answer/encode.js';
import type { StreamAnswer } from '../server/handle-query.js';
import { signAnswer, tsigErrorAnswer, type Verified } from '../transfer/tsig-answer.js';
import type { UpdateDecision, UpdateResult, UpdateTarget } from '../store/update.js';
import { toZoneRRs, checkPrerequisites, prescan, applyUpdates } from './apply.js';
import { ruleOf, allows } from './policy.js';

export interface UpdateDeps {
  /** TSIG keys by lower-case name (the transfer settings' keys). */
  keys(): ReadonlyMap<string, TsigKey>;
  /** One transaction on the domain (store/update.ts runUpdate, bound to the pool). */
  run(actor: string, domain: string, refused: number, decide: (t: UpdateTarget) => UpdateDecision): Promise<UpdateResult>;
  /** Resolves once the local snapshot has applied journal sequence `seq` (false on timeout). */
  waitFor(seq: number): Promise<boolean>;
  /** Clock, ms. */
  now(): number;
  log: Logger;
  maxUdp: number;
}

export class UpdateService {
  constructor(private readonly deps: UpdateDeps) {}

  answer(msg: Uint8Array, q: Query, peer: string): StreamAnswer {
    const d = this.deps;
    const plain = (rcode: number) => encodeError(msg, q.id, q.opcode, false, rcode, q, q.edns, d.maxUdp);
    const t = findTsig(msg);
    if (t === 'formerr') return plain(RCODE.FORMERR);
    if (!t) {
      d.log.info({ peer, zone: zoneText(q) }, 'UPDATE refused: not signed (TSIG is required)');
      return plain(RCODE.REFUSED);
    }
    const key = d.keys().get(t.keyName);
    const ok = verify(msg, t, key, { now: d.now() / 1000 });
    if (!ok.ok) {
      d.log.info({ peer, key: t.keyName, error: ok.error }, 'UPDATE: TSIG check failed');
      return tsigErrorAnswer(msg, q, t, ok.error, key, d.now() / 1000, d.maxUdp);
    }
    const signed: Verified = { key: key!, mac: t.mac, asSent: t.keyNameAsSent };
    const reply = (rcode: number, why?: string) => {
      d.log.info({ peer, key: signed.key.name, zone: zoneText(q), rcode: RCODE_NAMES[rcode] ?? rcode, why }, 'UPDATE answered');
      return signAnswer(plain(rcode), signed, d.now() / 1000);
    };
    const decoded = decodeUpdate(msg);
    if (!decoded.ok) return reply(decoded.rcode, decoded.why);
    const u = decoded.update;
    // RFC 2136 3.1.1: a zone we do not serve (or another class) is NOTAUTH.
    if (u.zclass !== CLASS_IN) return reply(RCODE.NOTAUTH, 'zone class is not IN');
    const zone = nameKey(u.zone);
    const apex = splitName(zone).labels;
    const prereqs = toZoneRRs(u.prerequisites, apex);
    const updates = toZoneRRs(u.updates, apex);
    const actor = `tsig:${signed.key.name}`;
    const decide = (target: UpdateTarget): UpdateDecision => {
      const rule = ruleOf(target.policy, signed.key.name);
      if (!rule) return { rcode: RCODE.REFUSED, why: `key ${signed.key.name} is not in the update policy of ${zone}` };
      if (target.sharedWith.length) {
        return { rcode: RCODE.REFUSED, why: `zone "${target.zone}" is shared with ${target.sharedWith.join(', ')}` };
      }
      if (!prereqs.ok) return { rcode: prereqs.rcode, why: prereqs.why };
      const pre = checkPrerequisites(target.records, prereqs.value, apex);
      if (!pre.ok) return { rcode: pre.rcode, why: pre.why };
      if (!updates.ok) return { rcode: updates.rcode, why: updates.why };
      const scan = prescan(updates.value);
      if (!scan.ok) return { rcode: scan.rcode, why: scan.why };
      // RFC 2136 3.3: every update must be allowed, or nothing happens.
      const denied = updates.value.find((rr) => !allows(rule, rr.owner, rr.type));
      if (denied) return { rcode: RCODE.REFUSED, why: `the policy does not let ${signed.key.name} change ${denied.owner}/${denied.type === TYPE.ANY ? 'ANY' : denied.type}` };
      return { rcode: RCODE.NOERROR, records: applyUpdates(target.records, updates.value, apex) };
    };
    const log = d.log;
    async function* messages(): AsyncGenerator<Buffer> {
      let r: UpdateResult;
      try {
        r = await d.run(actor, zone, RCODE.REFUSED, decide);
      } catch (err) {
        log.error({ err, zone }, 'UPDATE failed');
        yield reply(RCODE.SERVFAIL, 'database error');
        return;
      }
      if (!r.found) { yield reply(RCODE.NOTAUTH, `${zone} is not a served domain apex`); return; }
      if (r.seq !== undefined && !(await d.waitFor(r.seq))) log.warn({ zone, seq: r.seq }, 'UPDATE committed; the snapshot is late');
      yield reply(r.rcode, r.why);
    }
    return { messages: messages() };
  }
}

const zoneText = (q: Query) => (q.keys.length ? q.keys.join('.') + '.' : '.');
