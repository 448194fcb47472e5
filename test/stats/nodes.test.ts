// Per-domain statistics across processes: `serve --workers 2` (each worker writes its own batches,
// which add up to exactly the queries sent; /metrics of the primary sums the per-tenant totals), and
// an edge on a read-only database (it writes to GLIDEPATH_STATS_DATABASE_URL when set, else keeps
// per-tenant totals in /metrics only and writes nothing).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from '../helpers/db.js';
import { startServe, api, ready, until } from '../helpers/serve-process.js';
import { startTestServer, importText, waitFor } from '../helpers/server.js';
import { query } from '../helpers/dig.js';
import { DEFAULT_STATS } from '../../src/config.js';
import type { Pool } from '../../src/store/db.js';

const zone = (origin: string) => `$ORIGIN ${origin}
@ 3600 SOA ns1 hostmaster 1 3600 600 86400 300
@ 3600 NS ns1
ns1 3600 A 192.0.2.1
www 300 A 192.0.2.80
`;

const stored = async (pool: Pool, domain: string) => (await pool.query<{ n: number | null }>(
  `SELECT sum(m.count)::int AS n FROM domain_query_minutes m JOIN domains d ON d.id = m.domain_id WHERE d.name = $1`, [domain])).rows[0].n ?? 0;

test('serve --workers 2: the workers\' batches add up to exactly the queries sent', { timeout: 120_000 }, async () => {
  const db = await freshDatabase();
  after(() => db.drop());
  const n = await startServe('stats-w2', db.url, { workers: 2, env: { GLIDEPATH_STATS_FLUSH_INTERVAL: '1s' } });
  await ready(n);
  assert.equal((await api(n, 'POST', '/v1/tenants', { name: 'acme' })).status, 201);
  const z = await api(n, 'POST', '/v1/zones?tenant=acme', { name: 'w2', rrsets: [
    { owner: '@', type: 'SOA', ttl: 3600, records: ['ns1 hostmaster 1 3600 600 86400 300'] },
    { owner: '@', type: 'NS', ttl: 3600, records: ['ns1'] },
    { owner: 'ns1', type: 'A', ttl: 3600, records: ['192.0.2.1'] },
    { owner: 'www', type: 'A', ttl: 300, records: ['192.0.2.80'] }] });
  assert.equal(z.status, 201, JSON.stringify(z.body));
  assert.equal((await api(n, 'POST', '/v1/domains?tenant=acme', { name: 'w2.example', zone: 'w2' })).status, 201);
  await until(async () => (await query(n.dns, 'www.w2.example.', 'A').catch(() => undefined))?.rcode === 'NOERROR', 10_000, 'the domain served', n);
  // Sent after the probe above (which counts too): UDP is spread over the workers by the kernel,
  // TCP connections are handed out in turn.
  let sent = 1;
  for (let i = 0; i < 60; i++) {
    const r = await query(n.dns, i % 3 ? 'www.w2.example.' : `x${i}.w2.example.`, 'A', { transport: i % 4 === 0 ? 'tcp' : 'udp', tries: 3 });
    assert.ok(r.rcode === 'NOERROR' || r.rcode === 'NXDOMAIN');
    sent++;
  }
  await until(async () => (await stored(db.pool, 'w2.example.')) >= sent, 20_000, `${sent} counts written`, n);
  await new Promise((r) => setTimeout(r, 1500)); // one more flush: nothing counted twice
  assert.equal(await stored(db.pool, 'w2.example.'), sent);
  await until(async () => new RegExp(`glidepath_tenant_queries_total\\{tenant="acme"\\} ${sent}\\b`).test(await (await fetch(`${n.api}/metrics`)).text()),
    10_000, 'the primary\'s /metrics to sum the workers\' tenant totals', n);
});

/** The database URL with every transaction read-only, as on a hot standby. */
const readOnly = (url: string) => `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent('-c default_transaction_read_only=on')}`;

test('an edge on a read-only database writes its counts to GLIDEPATH_STATS_DATABASE_URL', { timeout: 60_000 }, async () => {
  const full = await startTestServer({ api: null });
  await importText(full, zone('edge.example.'));
  const edge = await startTestServer({
    databaseUrl: readOnly(full.database.url), edge: { pollMs: 50, maxLagSeconds: 5 },
    stats: { ...DEFAULT_STATS, flushMs: 200, databaseUrl: full.database.url },
  });
  await waitFor(async () => (await query(edge.dnsPort(), 'www.edge.example.', 'A')).rcode === 'NOERROR', 5000, 'the edge to serve the domain');
  for (let i = 0; i < 9; i++) await query(edge.dnsPort(), 'www.edge.example.', 'A');
  await waitFor(async () => (await stored(full.db.pool, 'edge.example.')) >= 10, 10_000, 'the edge\'s counts written');
  assert.equal(await stored(full.db.pool, 'edge.example.'), 10);
});

test('an edge without GLIDEPATH_STATS_DATABASE_URL writes nothing and keeps per-tenant totals in /metrics', { timeout: 60_000 }, async () => {
  const full = await startTestServer({ api: null });
  await importText(full, zone('quiet.example.'));
  const edge = await startTestServer({
    databaseUrl: readOnly(full.database.url), edge: { pollMs: 50, maxLagSeconds: 5 }, stats: { ...DEFAULT_STATS, flushMs: 200 },
  });
  await waitFor(async () => (await query(edge.dnsPort(), 'www.quiet.example.', 'A')).rcode === 'NOERROR', 5000, 'the edge to serve the domain');
  for (let i = 0; i < 4; i++) await query(edge.dnsPort(), 'www.quiet.example.', 'A');
  await waitFor(async () => /glidepath_tenant_queries_total\{tenant="default"\} 5\b/.test(await (await fetch(`${edge.apiUrl()}/metrics`)).text()),
    10_000, 'the edge\'s per-tenant total');
  assert.equal(await stored(full.db.pool, 'quiet.example.'), 0);
});
