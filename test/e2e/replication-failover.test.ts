// Faults of an edge's own database, on a real primary + streaming standby (see
// replication.test.ts): an edge started while its database is down answers as soon as it is back,
// and a running edge turns not-ready past GLIDEPATH_MAX_LAG meanwhile while it keeps answering; a
// standby promoted to primary keeps its edges going, and they follow edits made on it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPgCluster, pgClusterSkip, type PgCluster } from '../helpers/pg-cluster.js';
import { startServe, api, until, ready, txt, readyz, type ServeNode } from '../helpers/serve-process.js';

const skip = pgClusterSkip();
const MAX_LAG = 3;

type Node = ServeNode;
const nodes: Node[] = [];
const startNode = async (name: string, databaseUrl: string, o: { edge?: boolean } = {}) => {
  const n = await startServe(name, databaseUrl, { env: o.edge ? { GLIDEPATH_ROLE: 'edge', GLIDEPATH_MAX_LAG: String(MAX_LAG) } : {} });
  nodes.push(n);
  return n;
};
const SOA = { owner: '@', type: 'SOA', ttl: 3600, records: ['ns1 hostmaster 1 3600 600 86400 300'] };

let pgc: PgCluster | undefined;
// Top level: a hook registered inside a test would run when that test ends.
after(() => pgc?.destroy());
let full: Node;
let edge1: Node;
let edge2: Node;

test('setup: primary + streaming standby, a full node on the primary, two edges on the standby', { skip, timeout: 150_000 }, async () => {
  pgc = await startPgCluster();
  full = await startNode('full-1', pgc.primary.url());
  edge1 = await startNode('edge-1', pgc.standby.url(), { edge: true });
  edge2 = await startNode('edge-2', pgc.standby.url(), { edge: true });
  await ready(full);
  assert.equal((await api(full, 'POST', '/v1/zones', { name: 'shop-new', rrsets: [SOA, { owner: '@', type: 'NS', ttl: 3600, records: ['ns1'] },
    { owner: 'ns1', type: 'A', ttl: 3600, records: ['192.0.2.53'] }, { owner: 'www', type: 'TXT', ttl: 300, records: ['"after"'] }] })).status, 201);
  assert.equal((await api(full, 'POST', '/v1/domains', { name: 'shop.example', zone: 'shop-new' })).status, 201);
  for (const n of [edge1, edge2]) await until(async () => (await txt(n, 'www.shop.example')) === 'after', 60_000, `${n.name} answers`, n);
});

test('an edge started while its database is down answers once it is back; the others go not-ready past the lag', { skip, timeout: 120_000 }, async (t) => {
  await pgc!.standby.stop();
  const edge3 = await startNode('edge-3', pgc!.standby.url(), { edge: true });
  // The running edges keep answering from their snapshots, and withdraw themselves past MAX_LAG.
  await until(async () => (await readyz(edge1)).status === 503, (MAX_LAG + 10) * 1000, 'edge-1 not ready past the lag', edge1);
  const r = await readyz(edge1);
  t.diagnostic(`edge-1 /readyz with its database down: ${JSON.stringify(r.body)}`);
  assert.ok(Number(r.body.replication?.lag_seconds) > MAX_LAG);
  assert.equal(await txt(edge1, 'www.shop.example'), 'after');
  assert.equal(await txt(edge2, 'www.shop.example'), 'after');
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(edge3.proc.exitCode, null, `edge-3 exited while its database was down:\n${edge3.log()}`);
  assert.equal(await txt(edge3, 'www.shop.example', 200), undefined, 'edge-3 answers nothing before it has a snapshot');
  const back = Date.now();
  await pgc!.standby.start();
  await until(async () => (await txt(edge3, 'www.shop.example')) === 'after', 30_000, 'edge-3 answers', edge3);
  t.diagnostic(`edge-3 answered ${Date.now() - back} ms after its database was started`);
  await until(async () => (await readyz(edge1)).status === 200, 30_000, 'edge-1 ready again', edge1);
});

test('the standby promoted to primary: its edges carry on and follow edits made on it', { skip, timeout: 120_000 }, async () => {
  full.proc.kill('SIGTERM');
  await pgc!.primary.stop();
  await pgc!.standby.promote();
  // The full node moves to the new primary (an operator's failover step).
  const full2 = await startNode('full-2', pgc!.standby.url());
  await ready(full2);
  const put = await api(full2, 'PUT', '/v1/zones/shop-new/rrsets/www/TXT', { ttl: 300, records: ['"promoted"'] });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  for (const e of [edge1, edge2, nodes.find((n) => n.name === 'edge-3')!]) {
    await until(async () => (await txt(e, 'www.shop.example')) === 'promoted', 10_000, `${e.name} follows the promoted standby`, e);
  }
  const r = await readyz(edge1);
  assert.equal(r.status, 200);
  assert.equal(r.body.replication?.standby, false);
});
