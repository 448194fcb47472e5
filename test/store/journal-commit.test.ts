// The journal's commit order (migrations/008, 017): every row a transaction appends gets its final
// number at COMMIT, in the order appended, also when the deferred trigger has already fired once in
// the transaction (SET CONSTRAINTS ALL IMMEDIATE) and more rows follow; and a transaction of
// 20,000 rows commits in one pass (before 017 each row's firing probed the transaction's dead
// provisional entries again: n² probes).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.js';

const db = await freshDatabase();
after(() => db.drop());
const pool = db.pool;
const t = (await pool.query<{ id: number }>("INSERT INTO tenants (name) VALUES ('jc') RETURNING id")).rows[0].id;
const z = (await pool.query<{ id: number }>("INSERT INTO zones (tenant_id, name) VALUES ($1, 'jc') RETURNING id", [t])).rows[0].id;
await pool.query(`INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES
  ($1, '@', 6, 3600, 'ns1 h 1 3600 600 86400 300'), ($1, '@', 2, 3600, 'ns1')`, [z]);

/** Journal rows of domain creations under `suffix`, in journal order. */
async function created(suffix: string): Promise<Array<{ seq: number; name: string }>> {
  return (await pool.query<{ seq: number; name: string }>(
    "SELECT seq::int AS seq, domain_name AS name FROM journal WHERE entity = 'domain' AND action = 'create' AND domain_name LIKE '%' || $1 ORDER BY seq",
    [suffix])).rows;
}

test('20,000 domains in one INSERT: every journal row numbered at COMMIT, in the order inserted', async () => {
  const before = (await pool.query<{ s: number }>('SELECT coalesce(max(seq), 0)::int AS s FROM journal')).rows[0].s;
  await pool.query(`INSERT INTO domains (name, tenant_id, zone_id)
    SELECT 'd' || g || '.bulk.test.', $1, $2 FROM generate_series(1, 20000) g`, [t, z]);
  assert.equal((await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM journal WHERE seq < 0')).rows[0].n, 0);
  const rows = await created('.bulk.test.');
  assert.equal(rows.length, 20000);
  assert.ok(rows[0].seq > before);
  assert.deepEqual(rows.map((r) => r.name).slice(0, 3), ['d1.bulk.test.', 'd2.bulk.test.', 'd3.bulk.test.']);
  assert.equal(rows[19999].name, 'd20000.bulk.test.');
  assert.equal(rows[19999].seq - rows[0].seq, 19999, 'consecutive numbers');
});

test('rows appended after the deferred trigger fired once in the transaction are numbered too', async () => {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query(`INSERT INTO domains (name, tenant_id, zone_id) SELECT 'a' || g || '.imm.test.', $1, $2 FROM generate_series(1, 3) g`, [t, z]);
    await c.query('SET CONSTRAINTS ALL IMMEDIATE'); // the deferred firings run now
    assert.equal((await c.query<{ n: number }>('SELECT count(*)::int AS n FROM journal WHERE seq < 0')).rows[0].n, 0);
    await c.query('SET CONSTRAINTS ALL DEFERRED');
    await c.query(`INSERT INTO domains (name, tenant_id, zone_id) SELECT 'b' || g || '.imm.test.', $1, $2 FROM generate_series(1, 2) g`, [t, z]);
    await c.query('COMMIT');
  } finally {
    c.release();
  }
  assert.equal((await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM journal WHERE seq < 0')).rows[0].n, 0);
  assert.deepEqual((await created('.imm.test.')).map((r) => r.name),
    ['a1.imm.test.', 'a2.imm.test.', 'a3.imm.test.', 'b1.imm.test.', 'b2.imm.test.']);
  // The setting is the transaction's own: the next transaction's rows are numbered as usual.
  await pool.query("INSERT INTO domains (name, tenant_id, zone_id) VALUES ('c.imm.test.', $1, $2)", [t, z]);
  assert.equal((await created('.imm.test.')).at(-1)!.name, 'c.imm.test.');
  assert.equal((await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM journal WHERE seq < 0')).rows[0].n, 0);
});
