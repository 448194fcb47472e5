// At a million domains, folding the snapshot's maps inside a change copied a million entries (0.4-1
// s with no answers and no edits applied). Past snapshot/layered-map.ts SYNC_FOLD_MAX entries the
// change feed folds them in steps between answers instead, while changes go on. Here with 51,000
// domains in a real database: a catch-up that makes the domains map due, a fold that finishes on
// its own, and the changes committed meanwhile all served.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.js';
import { ChangeFeed } from '../../src/feed/change-feed.js';
import { createLogger } from '../../src/log.js';
import { SYNC_FOLD_MAX } from '../../src/snapshot/layered-map.js';

const db = await freshDatabase();
after(() => db.drop());
const pool = db.pool;
const COUNT = SYNC_FOLD_MAX + 1000;

const t = (await pool.query<{ id: number }>("INSERT INTO tenants (name) VALUES ('fold') RETURNING id")).rows[0].id;
const z = (await pool.query<{ id: number }>("INSERT INTO zones (tenant_id, name) VALUES ($1, 'shared') RETURNING id", [t])).rows[0].id;
await pool.query(`INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES
  ($1, '@', 6, 3600, 'ns1 h 1 3600 600 86400 300'), ($1, '@', 2, 3600, 'ns1'), ($1, 'ns1', 1, 60, '192.0.2.1')`, [z]);
// A bulk load, as bench/peers/glidepath.ts does it: without the per-row triggers (and journal
// rows), which would take minutes for 51,000 domains; the feed reads them all at start.
const bulk = await pool.connect();
try {
  await bulk.query('BEGIN');
  await bulk.query('SET LOCAL session_replication_role = replica');
  await bulk.query(`INSERT INTO domains (name, tenant_id, zone_id) SELECT 'd' || g || '.fold.test.', $1, $2 FROM generate_series(1, $3) g`, [t, z, COUNT]);
  await bulk.query('COMMIT');
} finally {
  bulk.release();
}

test('a due fold of 51,000 domains runs in steps after the change and keeps every change made meanwhile', async () => {
  const feed = new ChangeFeed(db.url, pool, createLogger('silent'), 60_000);
  await feed.start();
  try {
    assert.equal(feed.snapshot().domains.size, COUNT);
    // sqrt(51,000) is about 226: 300 new domains in one catch-up make the domains map due.
    await pool.query(`INSERT INTO domains (name, tenant_id, zone_id) SELECT 'n' || g || '.fold.test.', $1, $2 FROM generate_series(1, 300) g`, [t, z]);
    const head = (await pool.query<{ seq: number }>('SELECT max(seq)::int AS seq FROM journal')).rows[0].seq;
    feed.kick();
    assert.ok(await feed.waitFor(head));
    const applied = feed.snapshot();
    assert.equal(applied.foldDue, true, 'the change did not fold 51,000 entries itself');
    assert.equal(applied.domains.size, COUNT + 300);
    // Changes while the fold runs: one more domain, one gone.
    await pool.query("INSERT INTO domains (name, tenant_id, zone_id) VALUES ('late.fold.test.', $1, $2)", [t, z]);
    await pool.query("DELETE FROM domains WHERE name = 'd7.fold.test.'");
    const later = (await pool.query<{ seq: number }>('SELECT max(seq)::int AS seq FROM journal')).rows[0].seq;
    feed.kick();
    assert.ok(await feed.waitFor(later));
    const deadline = Date.now() + 10_000;
    while (feed.snapshot().foldDue && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const snap = feed.snapshot();
    assert.equal(snap.foldDue, false, 'the fold finished and the feed moved onto it');
    assert.notEqual(snap, applied);
    assert.equal(snap.domains.size, COUNT + 300);
    for (const name of ['d1.fold.test.', `d${COUNT}.fold.test.`, 'n1.fold.test.', 'n300.fold.test.', 'late.fold.test.']) {
      assert.equal(snap.domains.get(name)?.name, name);
    }
    assert.equal(snap.domains.get('d7.fold.test.'), undefined);
    assert.equal(snap.findDomain(['www', 'n150', 'fold', 'test'])?.name, 'n150.fold.test.');
    // And it goes on following the journal.
    await pool.query("INSERT INTO domains (name, tenant_id, zone_id) VALUES ('after.fold.test.', $1, $2)", [t, z]);
    const last = (await pool.query<{ seq: number }>('SELECT max(seq)::int AS seq FROM journal')).rows[0].seq;
    feed.kick();
    assert.ok(await feed.waitFor(last));
    assert.ok(feed.snapshot().domains.get('after.fold.test.'));
  } finally {
    await feed.stop();
  }
});
