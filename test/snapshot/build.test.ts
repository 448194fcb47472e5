// SnapshotBuilder: the domains' entries built in steps while the load waits for PostgreSQL
// (prepareDomains, loadAll's `meanwhile`) give the snapshot finish() gives from the rows at once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { SnapshotBuilder, type ZoneSource } from '../../src/snapshot/build.js';
import type { DomainRow } from '../../src/snapshot/domain.js';
import type { Snapshot } from '../../src/snapshot/snapshot.js';
import type { StoredRecord } from '../../src/snapshot/zone.js';
import { loadAll } from '../../src/store/load.js';
import { freshDatabase } from '../helpers/db.js';

const records = (n: number): StoredRecord[] => [
  { owner: '@', type: 6, ttl: 3600, rdata: `ns1.example.net. hostmaster ${n} 7200 3600 1209600 300` },
  { owner: '@', type: 2, ttl: 3600, rdata: 'ns1.example.net.' },
  { owner: 'www', type: 1, ttl: 300, rdata: `192.0.2.${n}` },
];
const sources = (ids: number[]) => new Map<number, ZoneSource>(ids.map((id) => [id, { records: records(id), schedules: [] }]));
const row = (id: number, name: string, zone: number, pzc?: number): DomainRow => ({
  id, name, zone_id: zone, delegation_only: false, serial_offset: id,
  pzc_zone_id: pzc ?? null, pzc_at: pzc ? new Date('2031-01-01T00:00:00Z') : null,
});

/** What a snapshot serves, as plain data: domains (bound), zone references, the label bound. */
function served(s: Snapshot) {
  return {
    domains: [...s.domains].map(([name, d]) => [name, d.id, d.zoneId, d.serial, d.pzc?.zoneId, d.pzc?.at]).sort(),
    refs: [...s.zoneRefs].sort((a, b) => a[0] - b[0]),
    maxLabels: s.maxLabels,
  };
}

test('prepareDomains in steps, then finish, serves what finish alone serves; it counts down to false', () => {
  const rows = [row(1, 'a.example.', 10), row(2, 'b.example.', 10, 11), row(3, 'deep.c.example.', 11), row(4, 'd.example.', 12)];
  const once = new SnapshotBuilder();
  once.addZones(sources([10, 11, 12]));
  const whole = once.finish(rows);

  const steps = new SnapshotBuilder();
  const more: boolean[] = [];
  more.push(steps.prepareDomains(rows, 3)); // before any zone is there, as in the load
  steps.addZones(sources([10, 11]));
  more.push(steps.prepareDomains(rows, 3));
  more.push(steps.prepareDomains(rows, 3));
  steps.addZones(sources([12]));
  assert.deepEqual(more, [true, false, false]);
  assert.deepEqual(served(steps.finish(rows)), served(whole));
  assert.deepEqual(served(whole).refs, [[10, 2], [11, 2], [12, 1]]);
  assert.equal(whole.maxLabels, 3);

  // Part prepared, the rest left to finish.
  const part = new SnapshotBuilder();
  part.addZones(sources([10, 11, 12]));
  assert.equal(part.prepareDomains(rows, 1), true);
  assert.deepEqual(served(part.finish(rows)), served(whole));
});

test('finish leaves out a domain whose zone was not loaded, and its references, prepared or not', () => {
  const rows = [row(1, 'a.example.', 10), row(2, 'lost.example.', 99, 11), row(3, 'c.example.', 11)];
  for (const prepare of [0, 2, 3]) {
    const b = new SnapshotBuilder();
    b.addZones(sources([10, 11]));
    if (prepare) b.prepareDomains(rows, prepare);
    const s = b.finish(rows);
    assert.deepEqual(served(s).domains.map((d) => d[0]), ['a.example.', 'c.example.'], `prepared ${prepare}`);
    assert.deepEqual(served(s).refs, [[10, 1], [11, 1]], `prepared ${prepare}`);
  }
});

const db = await freshDatabase();
after(() => db.drop());

test('loadAll builds entries while it waits for each batch, and the snapshot is the one built after', async () => {
  const c = await db.pool.connect();
  try {
    const t = (await c.query<{ id: number }>("INSERT INTO tenants (name) VALUES ('build') RETURNING id")).rows[0].id;
    // More zones than one batch of loadAll (2,000), so that it waits more than once.
    const zones = (await c.query<{ id: number }>(
      `INSERT INTO zones (tenant_id, name) SELECT $1, 'z' || g FROM generate_series(1, 2500) g RETURNING id`, [t])).rows.map((r) => r.id);
    await c.query(`INSERT INTO records (zone_id, owner, type, ttl, rdata)
                   SELECT z, '@', 6, 3600, 'ns1.example.net. hostmaster 1 7200 3600 1209600 300' FROM unnest($1::bigint[]) z
                   UNION ALL SELECT z, 'www', 1, 300, '192.0.2.1' FROM unnest($1::bigint[]) z`, [zones]);
    await c.query(`INSERT INTO domains (tenant_id, name, zone_id)
                   SELECT $1, 'd' || i || '.example.', z FROM unnest($2::bigint[]) WITH ORDINALITY AS u(z, i)`, [t, zones]);
  } finally {
    c.release();
  }
  const b = new SnapshotBuilder();
  let calls = 0;
  let zonesBefore = -1;
  let zonesIn = 0;
  const all = await loadAll(db.pool, (batch) => { b.addZones(batch); zonesIn += batch.size; }, undefined, (domains) => {
    if (calls++ === 0) zonesBefore = zonesIn;
    return b.prepareDomains(domains, 100);
  });
  assert.equal(zonesBefore, 0, 'the first step runs while the first batch is read');
  assert.ok(calls > 1, `entries built in steps (${calls} calls)`);
  const snap = b.finish(all.domains, all.down);

  const again = new SnapshotBuilder();
  const all2 = await loadAll(db.pool, (batch) => again.addZones(batch));
  assert.deepEqual(served(snap), served(again.finish(all2.domains, all2.down)));
  assert.equal(snap.domains.size, 2500);
  assert.equal(snap.domains.get('d2500.example.')?.soa?.type, 6);
});
