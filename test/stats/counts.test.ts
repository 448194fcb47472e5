// Per-domain query statistics over real sockets: the counts written to PostgreSQL equal exactly the
// queries this suite sent over UDP, TCP and DoT, by type and rcode (cache hits included); a name no
// domain encloses counts nowhere; /metrics has per-tenant totals and no domain label. test/run.ts
// runs this suite over both UDP I/O paths (node:dgram and the native addon).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, importText, waitFor } from '../helpers/server.js';
import { buildQuery, query } from '../helpers/dig.js';
import { DEFAULT_STATS } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'glidepath-stats-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
  '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=stats.test'], { stdio: 'ignore' });

const s = await startTestServer({
  dot: [{ host: '127.0.0.1', port: 0 }], tls: { certFile: cert, keyFile: key },
  stats: { ...DEFAULT_STATS, flushMs: 200 },
});
const zone = (origin: string) => `$ORIGIN ${origin}
@ 3600 SOA ns1 hostmaster 1 3600 600 86400 300
@ 3600 NS ns1
ns1 3600 A 192.0.2.1
www 300 A 192.0.2.80
@ 300 MX 10 mail
mail 300 A 192.0.2.25
`;
await importText(s, zone('one.example.'), { zone: 'one' });
await importText(s, zone('two.example.'), { zone: 'two' });

/** A DoT exchange: one connection, the queries pipelined, every answer read. */
async function dot(names: Array<[string, string]>): Promise<void> {
  const sock = tls.connect({ host: '127.0.0.1', port: s.dotPort(), rejectUnauthorized: false, ALPNProtocols: ['dot'] });
  await new Promise<void>((res, rej) => { sock.once('secureConnect', res); sock.once('error', rej); });
  let buf = Buffer.alloc(0);
  let got = 0;
  const done = new Promise<void>((res) => sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { buf = buf.subarray(2 + buf.readUInt16BE(0)); got++; }
    if (got === names.length) res();
  }));
  sock.write(Buffer.concat(names.flatMap(([n, t], i) => { const q = buildQuery(n, t, { id: i }); const l = Buffer.alloc(2); l.writeUInt16BE(q.length); return [l, q]; })));
  await done;
  sock.destroy();
}

type Cell = string; // "domain qtype rcode"
async function stored(): Promise<Map<Cell, number>> {
  const r = await s.db.pool.query<{ name: string; qtype: string; rcode: string; n: number }>(
    `SELECT d.name, m.qtype, m.rcode, sum(m.count)::bigint AS n FROM domain_query_minutes m JOIN domains d ON d.id = m.domain_id
      GROUP BY 1, 2, 3`);
  return new Map(r.rows.map((x) => [`${x.name} ${x.qtype} ${x.rcode}`, x.n]));
}

test('the counts written equal the queries sent over UDP, TCP and DoT, by type and rcode', async () => {
  const want = new Map<Cell, number>();
  const add = (cell: Cell, n: number) => want.set(cell, (want.get(cell) ?? 0) + n);
  // UDP: the same question repeated (cache hits after the first), NXDOMAIN, NODATA.
  for (let i = 0; i < 5; i++) assert.equal((await query(s.dnsPort(), 'www.one.example.', 'A')).rcode, 'NOERROR');
  add('one.example. A NOERROR', 5);
  for (let i = 0; i < 3; i++) assert.equal((await query(s.dnsPort(), `nope${i}.one.example.`, 'A')).rcode, 'NXDOMAIN');
  add('one.example. A NXDOMAIN', 3);
  for (let i = 0; i < 2; i++) assert.equal((await query(s.dnsPort(), 'www.one.example.', 'AAAA', { edns: null })).rcode, 'NOERROR');
  add('one.example. AAAA NOERROR', 2);
  // A type outside the counted list counts as "other".
  assert.equal((await query(s.dnsPort(), 'one.example.', 'SSHFP')).rcode, 'NOERROR');
  add('one.example. other NOERROR', 1);
  // TCP
  for (let i = 0; i < 4; i++) assert.equal((await query(s.dnsPort(), 'two.example.', 'MX', { transport: 'tcp' })).rcode, 'NOERROR');
  add('two.example. MX NOERROR', 4);
  assert.equal((await query(s.dnsPort(), 'x.two.example.', 'TXT', { transport: 'tcp' })).rcode, 'NXDOMAIN');
  add('two.example. TXT NXDOMAIN', 1);
  // DoT
  await dot([['www.two.example.', 'A'], ['www.two.example.', 'A'], ['two.example.', 'SOA'], ['no.one.example.', 'AAAA']]);
  add('two.example. A NOERROR', 2);
  add('two.example. SOA NOERROR', 1);
  add('one.example. AAAA NXDOMAIN', 1);
  // Not ours: REFUSED, counted toward no domain.
  assert.equal((await query(s.dnsPort(), 'elsewhere.test.', 'A')).rcode, 'REFUSED');

  const total = [...want.values()].reduce((a, b) => a + b, 0);
  const t0 = Date.now();
  await waitFor(async () => [...(await stored()).values()].reduce((a, b) => a + b, 0) >= total, 10_000, 'the counts to be written');
  console.log(`# counts in the database ${Date.now() - t0} ms after the last query (flush every 200 ms)`);
  // A further flush must not add anything (nothing counted twice).
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(Object.fromEntries([...(await stored())].sort()), Object.fromEntries([...want].sort()));

  // Per-tenant totals in /metrics, and no per-domain label anywhere.
  const metrics = await (await fetch(`${s.apiUrl()}/metrics`)).text();
  assert.match(metrics, new RegExp(`glidepath_tenant_queries_total\\{tenant="default"\\} ${total}\\b`));
  assert.doesNotMatch(metrics, /one\.example|two\.example/);
});

test('a deleted domain\'s counts go with it, and a batch holding them is still written for the others', async () => {
  await importText(s, zone('three.example.'), { zone: 'three' });
  for (let i = 0; i < 2; i++) await query(s.dnsPort(), 'www.three.example.', 'A');
  await query(s.dnsPort(), 'www.one.example.', 'TXT');
  // Deleted before the next flush: the batch still holds its counts.
  await s.db.pool.query(`DELETE FROM domains WHERE name = 'three.example.'`);
  await waitFor(async () => (await stored()).get('one.example. TXT NOERROR') === 1, 10_000, 'the other domain\'s count');
  assert.equal([...(await stored()).keys()].some((k) => k.startsWith('three.')), false);
});
