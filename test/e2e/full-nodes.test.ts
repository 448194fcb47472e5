// Several full nodes on one PostgreSQL (several `glidepath serve` processes, as on several hosts):
// the PZC switch is written once and served at T by the clock on every node, and the
// re-announcements to secondaries while it is pending happen once per round, not once per node.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.js';
import { query } from '../helpers/dig.js';
import { startServe, api, until, ready } from '../helpers/serve-process.js';

const db = await freshDatabase();
after(() => db.drop());

const SOA = { owner: '@', type: 'SOA', ttl: 3600, records: ['ns1 hostmaster 1 3600 600 86400 300'] };
const zone = (name: string, www: string) => ({ name, rrsets: [SOA, { owner: '@', type: 'NS', ttl: 3600, records: ['ns1'] },
  { owner: 'ns1', type: 'A', ttl: 3600, records: ['192.0.2.53'] }, { owner: 'www', type: 'A', ttl: 3600, records: [www] }] });

test('two serve processes on one database: one PZC switch, served at T by both; re-announcements once per round', { timeout: 120_000 }, async (t) => {
  const a = await startServe('full-a', db.url);
  const b = await startServe('full-b', db.url);
  await ready(a);
  await ready(b);
  assert.equal((await api(a, 'POST', '/v1/zones', zone('old', '192.0.2.1'))).status, 201);
  assert.equal((await api(a, 'POST', '/v1/zones', zone('new', '192.0.2.2'))).status, 201);
  assert.equal((await api(a, 'POST', '/v1/domains', { name: 'twice.example', zone: 'old' })).status, 201);
  // Transfer settings make the domain one the nodes re-announce while a change is pending.
  assert.equal((await api(b, 'PUT', '/v1/domains/twice.example/transfer', { allow: ['127.0.0.1'] })).status, 200);
  const T = Math.ceil(Date.now() / 1000) * 1000 + 25_000;
  const put = await api(b, 'PUT', '/v1/domains/twice.example/pzc', { zone: 'new', at: new Date(T).toISOString() });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const scheduledSeq = (await db.pool.query<{ s: number }>('SELECT max(seq) AS s FROM journal')).rows[0].s;

  // Both serve the old zone until T and the new one from T, by their own clocks.
  await new Promise((r) => setTimeout(r, Math.max(0, T - 400 - Date.now())));
  for (const n of [a, b]) assert.deepEqual((await query(n.dns, 'www.twice.example', 'A')).answer.map((x) => x.split(' ').pop()), ['192.0.2.1'], n.name);
  await new Promise((r) => setTimeout(r, Math.max(0, T + 300 - Date.now())));
  for (const n of [a, b]) assert.deepEqual((await query(n.dns, 'www.twice.example', 'A')).answer.map((x) => x.split(' ').pop()), ['192.0.2.2'], n.name);

  // The scheduler wrote the switch once, whichever node got there.
  await until(async () => (await db.pool.query('SELECT 1 FROM domains WHERE name = $1 AND pzc_at IS NULL', ['twice.example.'])).rowCount === 1,
    5000, 'the switch written');
  const rows = (await db.pool.query<{ actor: string; action: string; serial: number }>(
    `SELECT actor, action, serial FROM journal WHERE domain_name = 'twice.example.' AND seq > $1 ORDER BY seq`, [scheduledSeq])).rows;
  t.diagnostic(`journal after scheduling: ${rows.map((r) => `${r.action}(${r.actor}, serial ${r.serial})`).join(', ')}`);
  assert.equal(rows.filter((r) => r.actor === 'pzc-scheduler').length, 1, 'one switch, written by one scheduler');
  // A 25 s switch of a zone with 1-hour TTLs needs two re-announcements (README: "PZC and
  // secondaries": overshoot past max(10 s, 10 % of the time left)); two nodes must not make four.
  const re = rows.filter((r) => r.action === 'reannounce');
  assert.equal(re.length, 2, 're-announced once per round, not once per node');
  assert.equal(new Set(rows.map((r) => r.serial)).size, rows.length, 'every serial change is a new serial');
});
