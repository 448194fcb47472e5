// Every query the API, the change feed, transfers, the scheduler and retention run on the hot
// paths uses an index at scale (issue 16): the real functions run against tables big enough for
// the planner to prefer indexes to scans, their SQL is recorded, and EXPLAIN of each must show no
// sequential scan of a large table.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { freshDatabase } from '../helpers/db.js';
import type { Pool } from '../../src/store/db.js';
import { loadDelta } from '../../src/store/load.js';
import { listDomains, getDomain } from '../../src/store/domains.js';
import { listZones, findZone } from '../../src/store/zones.js';
import { domainChanges } from '../../src/store/journal-read.js';
import { ixfrHistory } from '../../src/store/transfer.js';
import { applyDueSwitches, applyDueRRsets, upcomingSwitches, upcomingRRsets, maxZoneTtl } from '../../src/store/pzc.js';
import { lockZone, zoneUse, servingDomains, zoneVersion, getZoneSummary } from '../../src/store/zones.js';
import { loadZoneRecords, loadZoneRecordsJson, replaceZoneRecords, replaceZoneRecordColumns } from '../../src/store/records.js';
import { updateDomain } from '../../src/store/domains.js';
import { claimDomainName } from '../../src/store/domain-claims.js';
import { findToken } from '../../src/store/tokens.js';
import { findTenant } from '../../src/store/tenants.js';
import { journalHead } from '../../src/store/journal-read.js';
import { toColumns } from '../../src/api/record-columns.js';

const db = await freshDatabase();
after(() => db.drop());
const pool = db.pool;
const DOMAINS = 200_000;
const ZONES = 2000;
// (scheduled_rrsets is empty here, so scanning it is right; its unique key leads with zone_id.)
const BIG = new Set(['domains', 'zones', 'records', 'journal', 'zone_history', 'ixfr_steps']);

// Bulk rows without triggers (session_replication_role = replica): the shape, not the journal, matters.
{
  const c = await pool.connect();
  try {
    await c.query('SET session_replication_role = replica');
    await c.query("INSERT INTO tenants (name) SELECT 't' || g FROM generate_series(1, 20) g");
    await c.query(`INSERT INTO zones (id, tenant_id, name, serial) SELECT g, 1 + g % 20, 'z' || g, 1 FROM generate_series(1, ${ZONES}) g`);
    await c.query(`INSERT INTO records (zone_id, owner, type, ttl, rdata) SELECT z, 'h' || g, 1, 60, '192.0.2.1'
                   FROM generate_series(1, ${ZONES}) z, generate_series(1, 10) g`);
    await c.query(`INSERT INTO domains (id, name, tenant_id, zone_id) SELECT g, 'd' || g || '.example.', 1 + (g % ${ZONES}) % 20, 1 + g % ${ZONES}
                   FROM generate_series(1, ${DOMAINS}) g`);
    await c.query(`INSERT INTO journal (seq, actor, entity, action, zone_id, domain_name, domain_id, tenant_id)
                   SELECT g, 'x', 'domain', 'create', 1 + g % ${ZONES}, 'd' || g || '.example.', g, 1 + (g % ${ZONES}) % 20
                   FROM generate_series(1, ${DOMAINS}) g`);
    await c.query(`INSERT INTO zone_history (zone_id, txid, serial_from, serial_to) SELECT 1 + g % ${ZONES}, g, g, g + 1 FROM generate_series(1, 50000) g`);
    await c.query(`INSERT INTO ixfr_steps (domain_id, txid, serial_from, serial_to, diffable, zone_id, zone_serial)
                   SELECT g, 1, 1, 1, false, 1 + g % ${ZONES}, 1 FROM generate_series(1, ${DOMAINS}) g`);
    await c.query("SELECT setval('journal_seq', $1)", [DOMAINS]);
    await c.query('ANALYZE');
  } finally {
    await c.query('RESET session_replication_role');
    c.release();
  }
}

interface Seen { text: string; values: unknown[] }
/** The pool, with every query (and every query of its clients) recorded. */
function recording(p: Pool, seen: Seen[]): Pool {
  const note = (text: unknown, values: unknown) => {
    if (typeof text === 'string' && /^\s*(SELECT|WITH|UPDATE|DELETE|INSERT|\()/i.test(text)) seen.push({ text, values: (values as unknown[]) ?? [] });
  };
  const wrap = <T extends object>(target: T, extra: Record<string, unknown>): T => new Proxy(target, {
    get(t, k) {
      if (typeof k === 'string' && k in extra) return extra[k];
      const v = Reflect.get(t, k) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  const query = (q: (text: string, values?: unknown[]) => Promise<unknown>) => (text: string, values?: unknown[]) => { note(text, values); return q(text, values); };
  return wrap(p, {
    query: query((t, v) => p.query(t, v)),
    connect: async () => {
      const c = await p.connect();
      return wrap(c, { query: query((t, v) => c.query(t, v)) });
    },
  });
}

function seqScans(plan: Record<string, unknown>, out: string[] = []): string[] {
  if (plan['Node Type'] === 'Seq Scan' && BIG.has(plan['Relation Name'] as string)) out.push(plan['Relation Name'] as string);
  for (const p of (plan.Plans as Record<string, unknown>[] | undefined) ?? []) seqScans(p, out);
  return out;
}

/** EXPLAIN of every recorded statement: no sequential scan of a large table. */
async function explainAll(seen: Seen[]): Promise<void> {
  const c: pg.PoolClient = await pool.connect();
  try {
    for (const q of seen) {
      const plan = (await c.query<{ 'QUERY PLAN': Array<{ Plan: Record<string, unknown> }> }>(`EXPLAIN (FORMAT JSON) ${q.text}`, q.values)).rows[0]['QUERY PLAN'][0].Plan;
      const scans = seqScans(plan);
      assert.deepEqual(scans, [], `sequential scan of ${scans.join(', ')} in:\n${q.text}`);
    }
  } finally {
    c.release();
  }
}

test(`hot queries at ${DOMAINS.toLocaleString('en')} domains use indexes (EXPLAIN)`, async (t) => {
  const seen: Seen[] = [];
  const rec = recording(pool, seen);
  await loadDelta(rec, DOMAINS - 50, new Set([1, 2, 3]));
  await listDomains(rec, 3, 100, undefined);
  await listDomains(rec, 3, 100, 'd5.example.');
  await listDomains(rec, 3, 100, undefined, { prefix: 'd12' });
  await listDomains(rec, 3, 100, 'd1000.example.', { zoneId: 3 });
  await listDomains(rec, 3, 100, undefined, { pendingPzc: true });
  await getDomain(rec, 3, 'd42.example.');
  await listZones(rec, 3, 100, 'z100');
  await listZones(rec, 3, 100, undefined, 'z12');
  await findZone(rec, 3, 'z3');
  await domainChanges(rec, { domainId: 42, tenantId: 3, zoneId: 43, createdAt: new Date(0), since: 0, limit: 100 });
  await ixfrHistory(rec, 42, 43);
  await applyDueSwitches(rec);
  assert.ok(seen.length >= 15, `${seen.length} queries recorded`);
  await explainAll(seen);
  t.diagnostic(`${seen.length} queries explained`);
});

// The API's writes (a zone edit: lock, rules, the difference written, in rows or as columns; a
// domain claimed and moved), authentication and the scheduler's reads. (Retention's pass over
// zone_history is not here: from a watermark of 0 it reads the whole table, where a scan is right.) In a transaction
// rolled back, so the data stays as the test above saw it. (Triggers run inside PostgreSQL: their
// SQL is not seen here.)
test(`the API's write path, auth and the scheduler at ${DOMAINS.toLocaleString('en')} domains use indexes (EXPLAIN)`, async (t) => {
  const seen: Seen[] = [];
  const rec = recording(pool, seen);
  const c = await rec.connect();
  try {
    await c.query('BEGIN');
    // Zone 3 belongs to tenant 1 + 3 % 20 = 4; domain 42 serves zone 43.
    const z = await lockZone(c, 4, 'z3');
    assert.equal(z?.id, 3);
    await zoneUse(c, 3);
    await servingDomains(c, 3);
    const cur = await loadZoneRecords(c, 3);
    assert.equal(cur.length, 10);
    await loadZoneRecordsJson(c, 3);
    await replaceZoneRecords(c, 3, [...cur.slice(1), { owner: 'new', type: 1, ttl: 60, rdata: '192.0.2.9' }]);
    await replaceZoneRecordColumns(c, 3, toColumns(cur.slice(2)), 60_000);
    // A large PATCH writes the health check of every record too (zone files name none).
    await replaceZoneRecordColumns(c, 3, toColumns(cur.slice(1), true), 60_000);
    await zoneVersion(c, 3);
    await getZoneSummary(c, 4, 'z3');
    await claimDomainName(c, { key: 'sub.d42.example.', tenantId: 3, delegationOnly: false, admin: true }).catch(() => undefined);
    await claimDomainName(c, { key: 'fresh.example.', tenantId: 3, delegationOnly: false, admin: true });
    await updateDomain(c, 42, { zoneId: 22, delegationOnly: false }); // zone 22: tenant 3, as domain 42's
    await maxZoneTtl(c, 3);
  } finally {
    await c.query('ROLLBACK');
    c.release();
  }
  await findToken(rec, 'no-such-token');
  await findTenant(rec, 't3');
  await journalHead(rec);
  await upcomingSwitches(rec, 3, null, 100);
  await upcomingRRsets(rec, 3, { before: null, limit: 100 });
  await upcomingRRsets(rec, 3, { zoneId: 3, before: null, limit: 100 });
  await applyDueRRsets(rec);
  assert.ok(seen.length >= 20, `${seen.length} queries recorded`);
  await explainAll(seen);
  t.diagnostic(`${seen.length} queries explained`);
});
