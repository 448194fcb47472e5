// DNSSEC key rollover through the API and the scheduler's store steps, on the test's clock: the
// waits come from the domain's TTLs (DNSKEY TTL from the SOA, the largest TTL of every zone the domain
// may serve, the propagation delay), a parent not served here is confirmed by the operator, each step
// is taken once when two schedulers race, and bad requests are clear 4xx errors that change nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, makeZone, errorOf } from './helpers.js';
import { KekHolder } from '../../src/store/key-file.js';
import { applyDueRollovers, type RolloverSettings } from '../../src/store/dnssec-rollover.js';

const clock = { ms: Date.parse('2030-01-01T00:00:00Z') };
const settings: RolloverSettings = { now: () => clock.ms, propagationDelay: 60 };
const dir = mkdtempSync(join(tmpdir(), 'glidepath-rollover-api-'));
const api = await startApi({ kek: new KekHolder({ file: join(dir, 'kek.key'), create: true }), rollover: settings });
const a = await api.tenant('tenant-a');
const b = await api.tenant('tenant-b');

type State = { keys: Array<{ key_tag: number; state: string }>; rollover: null | { phase: string; next_at: string | null; parent: string | null; ds_seen_at: string | null; old_key_tag: number; new_key_tag: number; timing: Record<string, number> } };
const get = async (name: string, token = a) => (await api.call('GET', `/v1/domains/${name}/dnssec`, { token })).body as State;
const keyRows = async () => (await api.db.pool.query('SELECT domain_id, key_tag, state FROM dnssec_keys ORDER BY id')).rows;

// A zone with long TTLs: SOA 7200, the largest 86400; a second zone (the PZC target) holds 172800.
await api.call('POST', '/v1/zones', { token: a, body: { name: 'long', rrsets: [
  { owner: '@', type: 'SOA', ttl: 7200, records: ['ns1 hostmaster 1 3600 600 86400 300'] },
  { owner: '@', type: 'NS', ttl: 3600, records: ['ns1'] },
  { owner: 'ns1', type: 'A', ttl: 86400, records: ['192.0.2.53'] },
] } });
await api.call('POST', '/v1/zones', { token: a, body: { name: 'longer', rrsets: [
  { owner: '@', type: 'SOA', ttl: 600, records: ['ns1 hostmaster 1 3600 600 86400 300'] },
  { owner: '@', type: 'NS', ttl: 3600, records: ['ns1'] },
  { owner: 'ns1', type: 'A', ttl: 172800, records: ['192.0.2.53'] },
] } });
await makeZone(api, 'plain', a);
for (const [name, zone] of [['roll.example', 'long'], ['pzc.example', 'long'], ['unsigned.example', 'plain']]) {
  const r = await api.call('POST', '/v1/domains', { token: a, body: { name, zone } });
  assert.equal(r.status, 201, r.text);
}
for (const name of ['roll.example', 'pzc.example']) assert.equal((await api.call('PUT', `/v1/domains/${name}/dnssec`, { token: a, body: {} })).status, 200);

test('the waits come from the TTLs: DNSKEY TTL = SOA TTL capped at 3600, Ipub = Dprp + TTLkey, Iret from the largest TTL', async () => {
  const r = await api.call('POST', '/v1/domains/roll.example/dnssec/rollover', { token: a });
  assert.equal(r.status, 200, r.text);
  const ro = (r.body as State).rollover!;
  assert.deepEqual(ro.timing, { dnskey_ttl: 3600, max_zone_ttl: 86400, propagation_delay: 60, ipub: 3660, iret: 86460 });
  assert.equal(Date.parse(ro.next_at!), clock.ms + 3660_000);
  assert.equal(ro.phase, 'publish');
  assert.equal(ro.parent, null, 'no parent domain served here');
  assert.deepEqual((r.body as State).keys.map((k) => k.state), ['active', 'published']);
});

test('a pending PZC counts: the target zone\'s larger TTL lengthens Iret', async () => {
  const at = new Date(Date.now() + 7 * 86400_000);
  at.setUTCMilliseconds(0);
  const p = await api.call('PUT', '/v1/domains/pzc.example/pzc', { token: a, body: { zone: 'longer', at: at.toISOString() } });
  assert.ok(p.status === 200 || p.status === 201, p.text);
  const r = await api.call('POST', '/v1/domains/pzc.example/dnssec/rollover', { token: a });
  assert.equal(r.status, 200, r.text);
  assert.equal((r.body as State).rollover!.timing.max_zone_ttl, 172800);
  assert.equal((r.body as State).rollover!.timing.dnskey_ttl, 3600, 'the larger SOA TTL of the two zones, capped');
});

test('bad requests: unknown domain, foreign tenant, unsigned domain, a rollover while one runs; nothing changes', async () => {
  const before = await keyRows();
  const unknown = await api.call('POST', '/v1/domains/nope.example/dnssec/rollover', { token: a });
  assert.equal(unknown.status, 404);
  assert.equal(errorOf(unknown).error, 'not_found');
  const foreign = await api.call('POST', '/v1/domains/roll.example/dnssec/rollover', { token: b });
  assert.equal(foreign.status, 404);
  assert.equal(errorOf(foreign).error, 'not_found');
  const unsigned = await api.call('POST', '/v1/domains/unsigned.example/dnssec/rollover', { token: a });
  assert.equal(unsigned.status, 404);
  assert.equal(errorOf(unsigned).error, 'not_signed');
  const again = await api.call('POST', '/v1/domains/roll.example/dnssec/rollover', { token: a });
  assert.equal(again.status, 409);
  assert.equal(errorOf(again).error, 'rollover_in_progress');
  assert.match(errorOf(again).message, /roll\.example\..*phase publish/);
  const notWaiting = await api.call('POST', '/v1/domains/unsigned.example/dnssec/rollover/ds-published', { token: a, body: {} });
  assert.equal(notWaiting.status, 409);
  assert.equal(errorOf(notWaiting).error, 'rollover_not_waiting');
  const foreignConfirm = await api.call('POST', '/v1/domains/roll.example/dnssec/rollover/ds-published', { token: b, body: {} });
  assert.equal(foreignConfirm.status, 404);
  assert.deepEqual(await keyRows(), before);
});

test('a parent not served here: after Ipub the rollover waits for the operator; then DS TTL + Dprp; then retire; then done', async () => {
  const start = clock.ms;
  clock.ms = start + 3659_000;
  assert.deepEqual(await applyDueRollovers(api.db.pool, settings), [], 'not due one second early');
  clock.ms = start + 3660_000;
  const steps = await applyDueRollovers(api.db.pool, settings);
  assert.deepEqual(steps.filter((x) => x.domain === 'roll.example.').map((x) => [x.domain, x.phase, x.next_at]), [['roll.example.', 'ds', null]]);
  clock.ms += 86400_000;
  assert.deepEqual((await applyDueRollovers(api.db.pool, settings)).filter((x) => x.domain === 'roll.example.'), [], 'waits for the DS, however long');
  assert.equal((await get('roll.example')).rollover!.next_at, null);

  const confirm = await api.call('POST', '/v1/domains/roll.example/dnssec/rollover/ds-published', { token: a, body: { ds_ttl: 3600 } });
  assert.equal(confirm.status, 200, confirm.text);
  const seen = (confirm.body as State).rollover!;
  assert.equal(Date.parse(seen.ds_seen_at!), clock.ms);
  assert.equal(Date.parse(seen.next_at!), clock.ms + (3600 + 60) * 1000);
  const twice = await api.call('POST', '/v1/domains/roll.example/dnssec/rollover/ds-published', { token: a, body: {} });
  assert.equal(errorOf(twice).error, 'rollover_not_waiting');

  clock.ms += 3660_000;
  // Two schedulers (two servers on one database) race: the step is taken once.
  const [x, y] = await Promise.all([applyDueRollovers(api.db.pool, settings), applyDueRollovers(api.db.pool, settings)]);
  const both = [...x, ...y].filter((s) => s.domain === 'roll.example.');
  assert.deepEqual(both.map((s) => s.phase), ['retire']);
  const st = await get('roll.example');
  assert.deepEqual(st.keys.map((k) => k.state), ['retired', 'active']);
  assert.equal(Date.parse(st.rollover!.next_at!), clock.ms + 86460_000);

  clock.ms += 86460_000 - 1000;
  assert.deepEqual((await applyDueRollovers(api.db.pool, settings)).filter((s) => s.domain === 'roll.example.'), []);
  clock.ms += 1000;
  assert.deepEqual((await applyDueRollovers(api.db.pool, settings)).filter((s) => s.domain === 'roll.example.').map((s) => s.phase), ['done']);
  const end = await get('roll.example');
  assert.equal(end.rollover, null);
  assert.deepEqual(end.keys.map((k) => [k.key_tag, k.state]), [[st.keys[1].key_tag, 'active']]);
  // A new rollover may start now.
  const next = await api.call('POST', '/v1/domains/roll.example/dnssec/rollover', { token: a });
  assert.equal(next.status, 200, next.text);
});

test('turning signing off during a rollover ends it with the keys', async () => {
  assert.ok((await get('pzc.example')).rollover);
  assert.equal((await api.call('DELETE', '/v1/domains/pzc.example/dnssec', { token: a })).status, 204);
  const st = await get('pzc.example');
  assert.equal(st.rollover, null);
  assert.deepEqual(st.keys, []);
  const r = await api.call('POST', '/v1/domains/pzc.example/dnssec/rollover', { token: a });
  assert.equal(errorOf(r).error, 'not_signed');
});
