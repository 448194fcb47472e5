// Progressive Zone Change end to end, with real time and real packets: TTLs never outlive T, zone B
// from T on, the scheduler writes the switch exactly once across servers, and catches up at start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, importText, settle } from '../helpers/server.js';
import { freshDatabase } from '../helpers/db.js';
import { query } from '../helpers/dig.js';
import { startServer } from '../../src/main.js';
import { createLogger } from '../../src/log.js';
import { recordsFromText, insertRecords } from '../../src/store/records.js';
import { importZoneFile } from '../../src/store/zone-file-io.js';
import type { Pool } from '../../src/store/db.js';

const ZONE_A = (name: string) => `$ORIGIN ${name}
$TTL 3600
@ SOA ns1 hostmaster 100 3600 600 86400 900
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.80
`;

/** Creates zone "b-<domain>" with www A 198.51.100.80 in the default tenant; returns its id. */
async function zoneB(pool: Pool, name: string): Promise<number> {
  const id = (await pool.query<{ id: number }>(
    "INSERT INTO zones (tenant_id, name) SELECT id, $1 FROM tenants WHERE name = 'default' RETURNING id", [name])).rows[0].id;
  const c = await pool.connect();
  try {
    await insertRecords(c, id, [
      ...recordsFromText('@', 'SOA', 3600, ['ns1 hostmaster 100 3600 600 86400 900']),
      ...recordsFromText('@', 'NS', 3600, ['ns1']),
      ...recordsFromText('ns1', 'A', 3600, ['192.0.2.1']),
      ...recordsFromText('www', 'A', 300, ['198.51.100.80']),
    ]);
  } finally { c.release(); }
  return id;
}

async function schedule(pool: Pool, domain: string, zoneId: number, secondsAhead: number): Promise<number> {
  const r = await pool.query<{ at: Date }>(
    `UPDATE domains SET pzc_zone_id = $2, pzc_at = date_trunc('second', now()) + make_interval(secs => $3)
      WHERE name = $1 RETURNING pzc_at AS at`, [domain, zoneId, secondsAhead]);
  return r.rows[0].at.getTime() / 1000;
}

test('a switch 5 s ahead: TTLs never exceed the seconds left, zone B from T, serial up, journal holds it', async () => {
  const s = await startTestServer({ api: null });
  await importText(s, ZONE_A('pzc.example.'));
  const b = await zoneB(s.db.pool, 'b-pzc');
  const serial0 = Number((await query(s.dnsPort(), 'pzc.example.', 'SOA')).answer[0].split(' ')[5]);
  const T = await schedule(s.db.pool, 'pzc.example.', b, 5);
  await settle(s);
  let sawCap = false;
  for (;;) {
    const now = Date.now() / 1000;
    if (now > T + 1.2) break;
    for (const [name, type] of [['www.pzc.example.', 'A'], ['pzc.example.', 'NS'], ['nope.pzc.example.', 'A']]) {
      const r = await query(s.dnsPort(), name, type);
      const sent = Date.now() / 1000;
      for (const rec of r.records) {
        // Nothing handed out may outlive T (one second of slack for the query's own flight).
        if (sent < T) assert.ok(rec.ttl <= Math.ceil(T - now), `${name} ${rec.type} TTL ${rec.ttl} with ${(T - now).toFixed(2)} s left`);
        if (rec.ttl < 300) sawCap = true;
      }
      if (name === 'www.pzc.example.' && now >= T + 0.05) assert.deepEqual(r.answer, ['www.pzc.example. A 300 198.51.100.80'], 'zone B from T');
      if (name === 'www.pzc.example.' && sent < T - 0.05) assert.equal(r.records[0].rdata, '192.0.2.80', 'zone A before T');
    }
    await new Promise((res) => setTimeout(res, 500));
  }
  assert.ok(sawCap, 'the cap was seen biting');
  await new Promise((res) => setTimeout(res, 800));
  await settle(s);
  const serial1 = Number((await query(s.dnsPort(), 'pzc.example.', 'SOA')).answer[0].split(' ')[5]);
  assert.ok(serial1 > serial0 + 1, `serial ${serial0} -> ${serial1}`);
  const j = (await s.db.pool.query("SELECT actor, action, details FROM journal WHERE domain_name = 'pzc.example.' AND actor = 'pzc-scheduler'")).rows;
  assert.equal(j.length, 1);
  assert.equal(j[0].details.zone_id, b);
  const d = (await s.db.pool.query("SELECT zone_id, pzc_at FROM domains WHERE name = 'pzc.example.'")).rows[0];
  assert.equal(d.zone_id, b);
  assert.equal(d.pzc_at, null);
});

test('two servers on one database write the switch exactly once; a server started after T applies it at start', async () => {
  const db = await freshDatabase();
  const log = createLogger('silent');
  const opts = { databaseUrl: db.url, dns: [{ host: '127.0.0.1', port: 0 }], api: null, log };
  const one = await startServer(opts);
  const two = await startServer(opts);
  try {
    await importZoneFile(one.db.pool, ZONE_A('twice.example.'), { file: 'a', tenant: 'default', delegationOnly: false, actor: 'test' });
    await importZoneFile(one.db.pool, ZONE_A('late.example.'), { file: 'a', tenant: 'default', delegationOnly: false, actor: 'test' });
    const b1 = await zoneB(one.db.pool, 'b-twice');
    const b2 = await zoneB(one.db.pool, 'b-late');
    await schedule(one.db.pool, 'twice.example.', b1, 2);
    await new Promise((res) => setTimeout(res, 3500));
    const n = (await db.pool.query("SELECT count(*)::int AS n FROM journal WHERE domain_name = 'twice.example.' AND actor = 'pzc-scheduler'")).rows[0].n;
    assert.equal(n, 1, 'exactly one server wrote the switch');
    for (const s of [one, two]) {
      await settle(s);
      assert.deepEqual((await query(s.dnsPort(), 'www.twice.example.', 'A')).answer, ['www.twice.example. A 300 198.51.100.80']);
    }
    // Now nobody runs: schedule a switch, let T pass, then start a server.
    await one.stop();
    await two.stop();
    await schedule(db.pool, 'late.example.', b2, 1);
    await new Promise((res) => setTimeout(res, 1500));
    assert.equal((await db.pool.query("SELECT zone_id FROM domains WHERE name = 'late.example.'")).rows[0].zone_id !== b2, true);
    const three = await startServer(opts);
    try {
      const d = (await db.pool.query("SELECT zone_id, pzc_at FROM domains WHERE name = 'late.example.'")).rows[0];
      assert.equal(d.zone_id, b2, 'applied at start');
      assert.equal(d.pzc_at, null);
    } finally { await three.stop(); }
  } finally {
    await one.stop().catch(() => undefined);
    await two.stop().catch(() => undefined);
    await db.drop();
  }
});
