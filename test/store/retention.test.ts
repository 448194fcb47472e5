// Bounded history (issue 16): the journal and the IXFR history are pruned by depth and by age, by
// one server at a time; a follower behind the pruned journal reloads; an IXFR from a pruned serial
// is an AXFR (test/e2e/shared-zone.test.ts covers the transfer side over sockets).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.js';
import { pruneHistory } from '../../src/store/retention.js';
import { loadDelta } from '../../src/store/load.js';
import { ChangeFeed } from '../../src/feed/change-feed.js';
import { createLogger } from '../../src/log.js';

const db = await freshDatabase();
after(() => db.drop());
const pool = db.pool;
const LIMITS = { journalMaxAgeS: 86400, journalMaxDepth: 5, ixfrMaxAgeS: 86400, ixfrMaxDepth: 3 };

const t = (await pool.query<{ id: number }>("INSERT INTO tenants (name) VALUES ('r') RETURNING id")).rows[0].id;
const z = (await pool.query<{ id: number }>("INSERT INTO zones (tenant_id, name) VALUES ($1, 'rz') RETURNING id", [t])).rows[0].id;
await pool.query(`INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES
  ($1, '@', 6, 3600, 'ns1 h 1 3600 600 86400 300'), ($1, '@', 2, 3600, 'ns1'), ($1, 'ns1', 1, 60, '192.0.2.1')`, [z]);
const d = (await pool.query<{ id: number }>("INSERT INTO domains (name, tenant_id, zone_id) VALUES ('r.example.', $1, $2) RETURNING id", [t, z])).rows[0].id;
for (let i = 0; i < 10; i++) {
  await pool.query('UPDATE records SET ttl = $2 WHERE zone_id = $1 AND owner = $3', [z, 100 + i, 'ns1']);
  await pool.query('SELECT domain_reannounce($1, (SELECT d.serial FROM domains d WHERE id = $1))', [d]);
}
const count = async (sql: string, args: unknown[] = []) => (await pool.query<{ n: number }>(sql, args)).rows[0].n;

test('one round at a time: a server that finds the lock taken does nothing', async () => {
  const other = await pool.connect();
  try {
    await other.query('BEGIN');
    await other.query('SELECT pg_advisory_xact_lock(7406395139)');
    const before = await count('SELECT count(*)::int AS n FROM zone_history WHERE zone_id = $1', [z]);
    assert.ok(before >= 10);
    assert.equal(await pruneHistory(pool, LIMITS), undefined);
    assert.equal(await count('SELECT count(*)::int AS n FROM zone_history WHERE zone_id = $1', [z]), before, 'nothing pruned');
  } finally {
    await other.query('ROLLBACK');
    other.release();
  }
});

test('depth: the journal keeps its newest rows, each zone and domain its newest IXFR steps', async () => {
  const journalBefore = await count('SELECT count(*)::int AS n FROM journal');
  const maxSeq = await count('SELECT max(seq)::int AS n FROM journal');
  const p = await pruneHistory(pool, LIMITS);
  assert.ok(p);
  assert.equal(await count('SELECT count(*)::int AS n FROM journal'), 5);
  assert.equal(p.journal, journalBefore - 5);
  assert.equal(p.horizon, maxSeq - 5, 'the horizon is the highest pruned sequence');
  assert.equal(await count('SELECT count(*)::int AS n FROM zone_history WHERE zone_id = $1', [z]), 3);
  assert.equal(await count('SELECT count(*)::int AS n FROM ixfr_steps WHERE domain_id = $1', [d]), 3);
  // The newest stay: the last zone step ends at the zone's serial.
  assert.equal(await count('SELECT count(*)::int AS n FROM zone_history h JOIN zones z ON z.id = h.zone_id AND h.serial_to = z.serial'), 1);
});

test('age: steps older than the limit go whatever the depth', async () => {
  await pool.query("UPDATE zone_history SET at = now() - interval '2 days' WHERE id = (SELECT min(id) FROM zone_history)");
  const p = await pruneHistory(pool, { ...LIMITS, ixfrMaxDepth: 100 });
  assert.ok(p);
  assert.equal(p.zoneHistory, 1);
  assert.equal(await count('SELECT count(*)::int AS n FROM zone_history WHERE zone_id = $1', [z]), 2);
});

test('a follower behind the pruned journal reloads everything, then follows again', async () => {
  assert.equal(await loadDelta(pool, 1, new Set<number>()), 'reload');
  const feed = new ChangeFeed(db.url, pool, createLogger('silent'), 60_000);
  await feed.start();
  try {
    const head = feed.seq;
    feed.seq = 1; // as if it had been away while retention ran
    feed.kick();
    assert.ok(await feed.waitFor(head));
    assert.equal(feed.seq, head);
    assert.ok(feed.snapshot().domains.get('r.example.'), 'still serves the domain');
    await pool.query("INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES ($1, 'later', 1, 60, '192.0.2.7')", [z]);
    assert.ok(await feed.waitFor(head + 1));
    assert.ok(feed.snapshot().domains.get('r.example.')!.zone.nodes.has('later'));
  } finally {
    await feed.stop();
  }
});
