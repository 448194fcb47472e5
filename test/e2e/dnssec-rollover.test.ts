// A DNSSEC key rollover under the scheduler never makes a validating resolver fail. Debian's Unbound
// (validator iterator, the signed parent's DS as its only trust anchor, stub zones to Glidepath on
// loopback, every other address refused) is asked all along, by a prober every 100 ms, while the
// child's combined signing key rolls over: publish -> (the test, acting as the registry, copies the
// child's CDS into the parent's DS RRset) -> ds -> retire -> done. Every answer must be NOERROR with
// AD. The zones' TTLs are 8 s and the propagation delay 1 s, so that the waits the scheduler computes
// are real seconds Unbound's cache lives by; the scheduler runs on the test's clock, which the test
// moves to each step's time only once that much real time has passed (and checks that one
// millisecond before it, nothing moves). Skips when unbound is absent.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestServer, importText, settle, waitFor, type TestServer, adminCall } from '../helpers/server.js';
import { query, type Response } from '../helpers/dig.js';
import { startUnbound, unboundMissing } from '../helpers/unbound.js';

const skip = unboundMissing;
const dir = mkdtempSync(join(tmpdir(), 'glidepath-rollover-'));
const CHILD = 'child.roll.example.';
/** Every TTL of both zones (and so the DNSKEY TTL): longer than the test's own pauses, so that
 *  Unbound still holds the previous state when a step is taken too early. */
const TTL = 8;
const DPRP = 1;

/** The scheduler's clock: moved by the test only. */
const clock = { ms: Date.now() };

let s: TestServer;
let unbound = 0;
let parentZone = '';

const api = (method: string, path: string, body?: unknown) => adminCall(s, method, path, body);

interface Rollover { phase: string; next_at: string | null; old_key_tag: number; new_key_tag: number; parent: string | null; ds_seen_at: string | null; timing: Record<string, number> }
interface State { keys: Array<{ key_tag: number; state: string }>; rollover: Rollover | null }
const state = async () => (await api('GET', `/v1/domains/${CHILD}/dnssec`)).json as unknown as State;

/** Straight from Glidepath, with DO. */
const direct = (name: string, type: string) => query(s.dnsPort(), name, type, { do: true, timeoutMs: 3000 });
/** RDATA octets of a record the helper prints in RFC 3597 form (\\# length hex), as it does RRSIG and CDS. */
const octets = (rdata: string) => Buffer.from(rdata.replace(/^\\# \d+\s*/, '').replace(/\s+/g, ''), 'hex');
/** RFC 4034 3.1: the key tag sits at octet 16 of RRSIG RDATA. */
const rrsigTags = (r: Response) => new Set(r.records.filter((x) => x.section === 'answer' && x.type === 'RRSIG').map((x) => octets(x.rdata).readUInt16BE(16)));
const ofType = (r: Response, t: string) => r.records.filter((x) => x.section === 'answer' && x.type === t);

/** Copies the child's CDS (RFC 7344: what the parent should hold) into the parent's DS RRset. */
async function registryFollowsCds(): Promise<string[]> {
  const cds = ofType(await direct(CHILD, 'TYPE59'), 'TYPE59').map((x) => x.rdata);
  assert.ok(cds.length > 0, 'the child publishes CDS');
  // CDS RDATA is DS RDATA (RFC 7344 3.1): key tag, algorithm, digest type, digest.
  const records = cds.map((x) => {
    const b = octets(x);
    return `${b.readUInt16BE(0)} ${b[2]} ${b[3]} ${b.subarray(4).toString('hex').toUpperCase()}`;
  });
  const r = await api('PUT', `/v1/zones/${encodeURIComponent(parentZone)}/rrsets/child/DS?tenant=default`, { ttl: TTL, records });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  await settle(s);
  return records;
}

// The prober: what Unbound says, by phase.
const seen: Array<{ phase: string; name: string; type: string; rcode: string; ad: boolean }> = [];
let phase = 'before';
let probing = true;
const PROBES: Array<[string, string]> = [[`www.${CHILD}`, 'A'], [CHILD, 'DNSKEY'], [`nope.${CHILD}`, 'A'], [CHILD, 'SOA'], [`www.${CHILD}`, 'TXT']];
async function probe(): Promise<void> {
  while (probing) {
    for (const [name, type] of PROBES) {
      try {
        const r = await query(unbound, name, type, { rd: true, do: true, timeoutMs: 4000 });
        seen.push({ phase, name, type, rcode: r.rcode, ad: r.ad });
      } catch (e) {
        seen.push({ phase, name, type, rcode: `no answer (${(e as Error).message})`, ad: false });
      }
    }
    await sleep(100);
  }
}

async function setup(): Promise<void> {
  s = await startTestServer({ keyFile: { file: join(dir, 'kek.key'), create: true }, dnssecRollover: { now: () => clock.ms, propagationDelay: DPRP } });
  await importText(s, `$ORIGIN ${CHILD}
$TTL ${TTL}
@ SOA ns1 hostmaster 1 3600 600 86400 ${TTL}
@ NS ns1
ns1 A 127.0.0.1
www A 192.0.2.10
`);
  const child = await api('PUT', `/v1/domains/${CHILD}/dnssec`, {});
  assert.equal(child.status, 200, JSON.stringify(child.json));
  const childDs = (child.json.ds as string[]).map((d) => d.replace(/^\S+ DS /, ''));
  parentZone = (await importText(s, `$ORIGIN roll.example.
$TTL ${TTL}
@ SOA ns1 hostmaster 1 3600 600 86400 ${TTL}
@ NS ns1
ns1 A 127.0.0.1
child NS ns1.child
ns1.child A 127.0.0.1
${childDs.map((d) => `child DS ${d}`).join('\n')}
`)).zone;
  const parent = await api('PUT', '/v1/domains/roll.example/dnssec', {});
  assert.equal(parent.status, 200, JSON.stringify(parent.json));
  const anchor = (parent.json.ds as string[])[0];
  await settle(s);
  unbound = await startUnbound(dir, 'roll', [anchor], [['roll.example.', s.dnsPort()], [CHILD, s.dnsPort()]], 'roll.example.');
}
if (!skip) await setup();

/** Moves the test's clock to `ms` and waits until the scheduler has taken the step. */
async function stepTo(ms: number, check: (st: State) => boolean, what: string): Promise<State> {
  clock.ms = ms;
  let st: State | undefined;
  await waitFor(async () => { st = await state(); return check(st); }, 10_000, what);
  await settle(s);
  return st!;
}

/** Waits until `seconds` of real time have passed since `fromReal`. */
async function realWait(fromReal: number, seconds: number): Promise<void> {
  const left = fromReal + seconds * 1000 - Date.now();
  if (left > 0) await sleep(left);
}

test('a key rollover under the scheduler: Unbound answers NOERROR with AD through every phase; at the end only the new key signs', { skip, timeout: 120_000 }, async () => {
  // Unbound validates the child before anything moves.
  await waitFor(async () => (await query(unbound, `www.${CHILD}`, 'A', { rd: true, do: true })).ad, 10_000, 'Unbound validates the child');
  const before = await state();
  assert.equal(before.keys.length, 1);
  const oldTag = before.keys[0].key_tag;
  const prober = probe();
  after(() => { probing = false; });
  await sleep(1500);

  // publish: the new key joins the DNSKEY RRset; only the old one signs; CDS lists both.
  phase = 'publish';
  clock.ms = Date.now();
  const t0 = clock.ms;
  const started = await api('POST', `/v1/domains/${CHILD}/dnssec/rollover`);
  assert.equal(started.status, 200, JSON.stringify(started.json));
  const r0 = (started.json as unknown as State).rollover!;
  assert.equal(r0.phase, 'publish');
  assert.equal(r0.parent, 'roll.example.');
  // RFC 7583 3.2.1 from the domain's TTLs: DNSKEY TTL = SOA TTL, largest TTL the same, Dprp.
  const WAIT = TTL + DPRP;
  assert.deepEqual(r0.timing, { dnskey_ttl: TTL, max_zone_ttl: TTL, propagation_delay: DPRP, ipub: WAIT, iret: WAIT });
  assert.equal(Date.parse(r0.next_at!), t0 + WAIT * 1000);
  const newTag = r0.new_key_tag;
  assert.equal(r0.old_key_tag, oldTag);
  assert.notEqual(newTag, oldTag);
  await settle(s);
  const dnskey = await direct(CHILD, 'DNSKEY');
  assert.equal(ofType(dnskey, 'DNSKEY').length, 2);
  assert.deepEqual(rrsigTags(dnskey), new Set([oldTag]), 'pre-publication: only the old key signs');
  assert.deepEqual(rrsigTags(await direct(`www.${CHILD}`, 'A')), new Set([oldTag]));
  assert.equal(ofType(await direct(CHILD, 'TYPE59'), 'TYPE59').length, 2, 'CDS: old and new (Double-DS)');

  // One millisecond before Ipub is over nothing moves.
  clock.ms = t0 + WAIT * 1000 - 1;
  await sleep(1200); // the scheduler ticks every 500 ms
  assert.equal((await state()).rollover!.phase, 'publish');

  // Ipub over, the parent has only the old DS: the rollover waits for it (next_at null).
  await realWait(t0, WAIT);
  phase = 'ds';
  const ds = await stepTo(t0 + WAIT * 1000, (st) => st.rollover?.phase === 'ds', 'phase ds');
  assert.equal(ds.rollover!.next_at, null);
  assert.equal(ds.rollover!.ds_seen_at, null);
  await sleep(1200);
  assert.equal((await state()).rollover!.phase, 'ds', 'no new DS at the parent: no switch');
  assert.deepEqual(rrsigTags(await direct(`www.${CHILD}`, 'A')), new Set([oldTag]));

  // The registry follows the CDS: the parent's DS RRset now holds old and new.
  const tDs = clock.ms;
  assert.equal((await registryFollowsCds()).length, 2);
  const seenDs = await stepTo(tDs, (st) => st.rollover?.ds_seen_at !== null, 'the new DS seen at the parent');
  const realDs = Date.now();
  // RFC 7583 3.3.2: Dprp + TTLds after it was seen.
  assert.equal(Date.parse(seenDs.rollover!.next_at!), tDs + WAIT * 1000);
  assert.equal(seenDs.rollover!.timing.ds_ttl, TTL);

  // retire: the new key signs everything; the old one stays published; CDS lists only the new.
  await realWait(realDs, WAIT);
  phase = 'retire';
  const tRetire = tDs + WAIT * 1000;
  const retire = await stepTo(tRetire, (st) => st.rollover?.phase === 'retire', 'phase retire');
  assert.deepEqual(retire.keys.map((k) => [k.key_tag, k.state]), [[oldTag, 'retired'], [newTag, 'active']]);
  assert.equal(Date.parse(retire.rollover!.next_at!), tRetire + WAIT * 1000);
  const realRetire = Date.now();
  const dk2 = await direct(CHILD, 'DNSKEY');
  assert.equal(ofType(dk2, 'DNSKEY').length, 2);
  assert.deepEqual(rrsigTags(dk2), new Set([newTag]), 'one signature: no double signing');
  assert.deepEqual(rrsigTags(await direct(`www.${CHILD}`, 'A')), new Set([newTag]));
  assert.equal(ofType(await direct(CHILD, 'TYPE59'), 'TYPE59').length, 1, 'CDS: only the new key');

  // done: the old key leaves; the registry drops the old DS as the CDS says.
  await realWait(realRetire, WAIT);
  phase = 'done';
  const done = await stepTo(tRetire + WAIT * 1000, (st) => st.rollover === null, 'rollover done');
  assert.deepEqual(done.keys.map((k) => [k.key_tag, k.state]), [[newTag, 'active']]);
  const dk3 = await direct(CHILD, 'DNSKEY');
  assert.deepEqual(ofType(dk3, 'DNSKEY').length, 1);
  assert.deepEqual(rrsigTags(dk3), new Set([newTag]));
  assert.equal((await registryFollowsCds()).length, 1);
  phase = 'after';
  await sleep((TTL + 1) * 1000); // past every TTL: Unbound now knows only the new key

  probing = false;
  await prober;
  const byPhase = new Map<string, number>();
  for (const x of seen) byPhase.set(x.phase, (byPhase.get(x.phase) ?? 0) + 1);
  for (const p of ['publish', 'ds', 'retire', 'done', 'after']) assert.ok((byPhase.get(p) ?? 0) >= PROBES.length, `Unbound asked during ${p}: ${JSON.stringify([...byPhase])}`);
  const bad = seen.filter((x) => x.rcode !== 'NOERROR' || !x.ad);
  assert.deepEqual(bad, [], `Unbound failed during the rollover (${seen.length} answers)`);
  console.log(`# rollover: ${seen.length} Unbound answers, all NOERROR with AD; by phase ${JSON.stringify(Object.fromEntries(byPhase))}`);
  // Unbound validates with the new key: its DNSKEY answer carries the new key's signature only.
  const last = await query(unbound, CHILD, 'DNSKEY', { rd: true, do: true });
  assert.equal(last.ad, true);
  assert.deepEqual(rrsigTags(last), new Set([newTag]));
  const rows = (await s.db.pool.query('SELECT key_tag FROM dnssec_keys k JOIN domains d ON d.id = k.domain_id WHERE d.name = $1', [CHILD])).rows;
  assert.deepEqual(rows.map((x: { key_tag: number }) => x.key_tag), [newTag], 'the old key is gone from the database');
});
