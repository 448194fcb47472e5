import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.js';
import { migrate } from '../../src/store/migrate.js';
import { tx } from '../../src/store/db.js';

const db = await freshDatabase();
after(() => db.drop());

test('migrations are idempotent: a second run applies nothing and keeps the data', async () => {
  await db.pool.query("INSERT INTO tenants (name) VALUES ('keep')");
  assert.deepEqual(await migrate(db.pool), []);
  const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM tenants WHERE name = 'keep'");
  assert.equal(rows[0].n, 1);
});

test('the journal records every change in increasing order with its author, and serials increase', async () => {
  const t = (await db.pool.query("INSERT INTO tenants (name) VALUES ('j') RETURNING id")).rows[0].id as number;
  const zone = await tx(db.pool, 'token:abc', async (c) => {
    const z = (await c.query("INSERT INTO zones (tenant_id, name) VALUES ($1, 'jz') RETURNING id", [t])).rows[0].id as number;
    await c.query(`INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES
      ($1, '@', 6, 3600, 'ns1.example. h.example. 7 3600 600 86400 300'), ($1, '@', 2, 3600, 'ns1.example.')`, [z]);
    await c.query("INSERT INTO domains (name, tenant_id, zone_id) VALUES ('j.example.', $1, $2)", [t, z]);
    return z;
  });
  const serial0 = (await db.pool.query("SELECT d.serial FROM domains d WHERE name = 'j.example.'")).rows[0].serial as number;
  assert.equal(serial0, 7, 'a new domain starts at its zone SOA serial');
  await tx(db.pool, 'token:def', (c) => c.query("INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES ($1, 'www', 1, 60, '192.0.2.1')", [zone]));
  await db.pool.query("UPDATE records SET ttl = 120 WHERE owner = 'www' AND zone_id = $1", [zone]);
  const serial2 = (await db.pool.query("SELECT d.serial FROM domains d WHERE name = 'j.example.'")).rows[0].serial as number;
  assert.equal(serial2, 9, 'two later transactions bump the serial twice');
  const j = (await db.pool.query('SELECT seq, actor, entity, action FROM journal WHERE zone_id = $1 ORDER BY seq', [zone])).rows;
  assert.deepEqual(j.map((r) => [r.actor, r.entity, r.action]), [
    ['token:abc', 'zone', 'create'], ['token:abc', 'records', 'insert'], ['token:abc', 'domain', 'create'],
    ['token:def', 'records', 'insert'], ['sql:glidepath', 'records', 'update'],
  ]);
  for (let i = 1; i < j.length; i++) assert.ok(j[i].seq > j[i - 1].seq);
});

test('the database refuses a CNAME beside other data and a TTL out of range', async () => {
  const t = (await db.pool.query("INSERT INTO tenants (name) VALUES ('c') RETURNING id")).rows[0].id as number;
  const z = (await db.pool.query("INSERT INTO zones (tenant_id, name) VALUES ($1, 'cz') RETURNING id", [t])).rows[0].id as number;
  await db.pool.query("INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES ($1, 'www', 1, 60, '192.0.2.1')", [z]);
  await assert.rejects(db.pool.query("INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES ($1, 'www', 5, 60, '@')", [z]), /CNAME/);
  await assert.rejects(db.pool.query("INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES ($1, 'x', 1, -1, '192.0.2.1')", [z]), /check constraint/);
});
