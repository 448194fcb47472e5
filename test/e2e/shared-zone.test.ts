// A zone served by many domains (issue 16): an edit writes O(1) rows whatever the number of
// domains, moves the serial every one of them serves, is applied by the change feed as one zone,
// and IXFR stays exact per domain (the zone's history shifted by each domain's own offset).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, settle } from '../helpers/server.js';
import { query } from '../helpers/dig.js';
import { xfr, xfrQuery } from '../helpers/xfr.js';
import { loadDelta } from '../../src/store/load.js';
import { pruneHistory } from '../../src/store/retention.js';

const s = await startTestServer({ api: null });
const pool = s.db.pool;
const port = () => s.dnsPort();
const N = 2000;

const tenant = (await pool.query<{ id: number }>("INSERT INTO tenants (name) VALUES ('parking') RETURNING id")).rows[0].id;
const zone = (await pool.query<{ id: number }>("INSERT INTO zones (tenant_id, name) VALUES ($1, 'park') RETURNING id", [tenant])).rows[0].id;
await pool.query(`INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES
  ($1, '@', 6, 3600, 'ns1 hostmaster 100 3600 600 86400 300'), ($1, '@', 2, 3600, 'ns1'),
  ($1, 'ns1', 1, 3600, '192.0.2.53'), ($1, 'www', 1, 300, '192.0.2.1')`, [zone]);
await pool.query(`INSERT INTO domains (name, tenant_id, zone_id) SELECT 'd' || g || '.parked.', $1, $2 FROM generate_series(1, ${N}) g`, [tenant, zone]);
await settle(s);

const count = async (table: string) => (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
const serialOf = async (name: string) => Number((await query(port(), name, 'SOA')).answer[0].split(' ')[5]);
const soaSerial = (rdata: string) => Number(rdata.split(' ')[2]);
const idOf = async (name: string) => (await pool.query<{ id: number }>('SELECT id FROM domains WHERE name = $1', [name])).rows[0].id;

test(`an edit to a zone served by ${N} domains writes O(1) rows and moves every domain's serial`, async () => {
  assert.equal(await serialOf('d1.parked.'), 100, 'a new domain serves its zone SOA serial');
  const before = { journal: await count('journal'), zone: await count('zone_history'), steps: await count('ixfr_steps') };
  const rowVersions = async () => (await pool.query<{ v: string }>('SELECT string_agg(xmin::text, \',\' ORDER BY id) AS v FROM domains')).rows[0].v;
  const domainsBefore = await rowVersions();
  const seq = (await pool.query<{ s: number }>('SELECT max(seq) AS s FROM journal')).rows[0].s;

  await pool.query("UPDATE records SET rdata = '192.0.2.2' WHERE zone_id = $1 AND owner = 'www'", [zone]);

  assert.equal(await count('journal'), before.journal + 1, 'one journal row');
  assert.equal(await count('zone_history'), before.zone + 1, 'one zone history step');
  assert.equal(await count('ixfr_steps'), before.steps, 'no per-domain step');
  assert.equal(await rowVersions(), domainsBefore, 'no domain row written');
  const served = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM domains d WHERE d.serial = 101')).rows[0].n;
  assert.equal(served, N, 'every domain serves serial 101');

  // The change feed reads the one zone, not the domains on it.
  const delta = await loadDelta(pool, seq, s.feed!.snapshot().zones);
  assert.ok(delta && delta !== 'reload');
  assert.equal(delta.domains.length, 0);
  assert.deepEqual([...delta.zones.keys()], [zone]);

  await settle(s);
  for (const name of ['d1.parked.', `d${N / 2}.parked.`, `d${N}.parked.`]) {
    assert.deepEqual((await query(port(), `www.${name}`, 'A')).answer.map((a) => a.split(' ').pop()), ['192.0.2.2'], name);
    assert.equal(await serialOf(name), 101, name);
  }
});

test('IXFR per domain: the zone history shifted by each domain\'s own serial changes', async () => {
  for (const name of ['d1.parked.', 'd2.parked.', 'd3.parked.']) {
    await pool.query(`INSERT INTO domain_transfer (domain_id, allow) VALUES ($1, '{127.0.0.1/32}')`, [await idOf(name)]);
  }
  // d2's own bare serial bump (the PZC re-announcement): 101 -> 102 while the zone stays at 101.
  assert.equal((await pool.query('SELECT domain_reannounce($1, 101) AS s', [await idOf('d2.parked.')])).rows[0].s, 102);
  // d3's delegation-only flag: not a record difference.
  await pool.query("UPDATE domains SET delegation_only = true WHERE name = 'd3.parked.'");
  await pool.query("INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES ($1, 'new', 1, 60, '192.0.2.9')", [zone]);
  await settle(s);
  await s.transfer!.settings.reload();
  assert.equal(await serialOf('d1.parked.'), 102);
  assert.equal(await serialOf('d2.parked.'), 103);
  assert.equal(await serialOf('d3.parked.'), 103);

  const d1 = (await xfr(port(), xfrQuery('d1.parked.', 'IXFR', 100))).records;
  // RFC 1995 4: SOA(new), [SOA(old) removed SOA(next) added]..., SOA(new).
  assert.deepEqual(d1.map((r) => (r.type === 'SOA' ? `SOA ${soaSerial(r.rdata)}` : `${r.owner} ${r.rdata}`)), [
    'SOA 102', 'SOA 100', 'www.d1.parked. 192.0.2.1', 'SOA 101', 'www.d1.parked. 192.0.2.2',
    'SOA 101', 'SOA 102', 'new.d1.parked. 192.0.2.9', 'SOA 102']);

  const d2 = (await xfr(port(), xfrQuery('d2.parked.', 'IXFR', 100))).records;
  assert.deepEqual(d2.map((r) => (r.type === 'SOA' ? `SOA ${soaSerial(r.rdata)}` : `${r.owner} ${r.rdata}`)), [
    'SOA 103', 'SOA 100', 'www.d2.parked. 192.0.2.1', 'SOA 101', 'www.d2.parked. 192.0.2.2',
    'SOA 101', 'SOA 102', // the re-announcement: no record changed
    'SOA 102', 'SOA 103', 'new.d2.parked. 192.0.2.9', 'SOA 103']);
  const d2from102 = (await xfr(port(), xfrQuery('d2.parked.', 'IXFR', 102))).records;
  assert.equal(d2from102.length, 5); // SOA 103, SOA 102, SOA 103, new A, SOA 103

  // Across d3's flag change: AXFR (the first record after the SOA is not an SOA).
  const d3 = (await xfr(port(), xfrQuery('d3.parked.', 'IXFR', 101))).records;
  assert.notEqual(d3[1].type, 'SOA');
  assert.equal(d3.length, 6);
  // After it, IXFR again.
  const d3inc = (await xfr(port(), xfrQuery('d3.parked.', 'IXFR', 102))).records;
  assert.deepEqual(d3inc.map((r) => r.type), ['SOA', 'SOA', 'SOA', 'A', 'SOA']);
});

test('a secondary whose serial fell out of the pruned history gets AXFR; a serial still in it, IXFR', async () => {
  const p = await pruneHistory(pool, { journalMaxAgeS: 86400, journalMaxDepth: 1_000_000, ixfrMaxAgeS: 86400, ixfrMaxDepth: 1 });
  assert.ok(p && p.zoneHistory >= 1);
  const old = (await xfr(port(), xfrQuery('d1.parked.', 'IXFR', 100))).records;
  assert.notEqual(old[1].type, 'SOA', 'AXFR form (RFC 1995 4)');
  assert.equal(old.length, 6); // SOA, NS, ns1 A, www A, new A, SOA
  const recent = (await xfr(port(), xfrQuery('d1.parked.', 'IXFR', 101))).records;
  assert.deepEqual(recent.map((r) => r.type), ['SOA', 'SOA', 'SOA', 'A', 'SOA']);
});
