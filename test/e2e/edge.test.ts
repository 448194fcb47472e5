// An edge node (GLIDEPATH_ROLE=edge) in one process on an ordinary database: it follows changes by
// polling the journal (no LISTEN connection), writes nothing (an overdue PZC stays in the database
// for a full node to apply, while the edge serves it by the clock), and its API has only the
// health routes, with /readyz reporting the position it applied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, importText, waitFor } from '../helpers/server.js';
import { query } from '../helpers/dig.js';
import { importZoneFile } from '../../src/store/zone-file-io.js';

const zone = (origin: string, www: string) => `$ORIGIN ${origin}
@ 3600 SOA ns1 hostmaster 1 3600 600 86400 300
@ 3600 NS ns1
ns1 3600 A 192.0.2.1
www 300 A ${www}
`;

test('an edge polls the journal, writes nothing, and serves only health routes', { timeout: 60_000 }, async () => {
  const s = await startTestServer({ edge: { pollMs: 50, maxLagSeconds: 5 }, node: { id: 'edge-t' } });
  const pool = s.db.pool;
  // No LISTEN from this server: a hot standby would refuse it.
  const listening = await pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'`);
  assert.equal(listening.rowCount, 0);

  await importText(s, zone('edge.example.', '192.0.2.80'));
  await importZoneFile(pool, zone('edge.example.', '192.0.2.81'), { file: 'inline', domain: 'edge.example.', zone: 'edge-next', tenant: 'default', delegationOnly: false, actor: 'test' });
  await waitFor(async () => (await query(s.dnsPort(), 'www.edge.example', 'A')).answer.some((a) => a.endsWith('192.0.2.81')), 2000, 'the edit polled in');

  // An overdue switch: the edge serves the target by the clock but does not write the switch.
  await importZoneFile(pool, zone('other.example.', '192.0.2.99'), { file: 'inline', domain: 'other.example.', zone: 'edge-target', tenant: 'default', delegationOnly: false, actor: 'test' });
  await pool.query(`UPDATE domains SET pzc_zone_id = (SELECT id FROM zones WHERE name = 'edge-target'), pzc_at = date_trunc('second', now()) - interval '1 second' WHERE name = 'edge.example.'`);
  await waitFor(async () => (await query(s.dnsPort(), 'www.edge.example', 'A')).answer.some((a) => a.endsWith('192.0.2.99')), 2000, 'the switch served by the clock');
  await new Promise((r) => setTimeout(r, 1500)); // three scheduler ticks, had there been a scheduler
  assert.equal((await pool.query('SELECT 1 FROM domains WHERE name = $1 AND pzc_at IS NOT NULL', ['edge.example.'])).rowCount, 1, 'the edge wrote the switch');

  // The API: health routes only; /readyz with the position applied.
  assert.equal((await fetch(`${s.apiUrl()}/v1/zones`, { headers: { authorization: 'Bearer test-admin-token' } })).status, 404);
  const head = (await pool.query<{ s: number }>('SELECT max(seq) AS s FROM journal')).rows[0].s;
  await waitFor(() => s.feed!.seq >= head, 2000, 'caught up');
  const r = await fetch(`${s.apiUrl()}/readyz`);
  const body = await r.json() as { status: string; replication: Record<string, unknown> };
  assert.equal(r.status, 200, JSON.stringify(body));
  assert.equal(body.replication.journal_seq, head);
  assert.equal(body.replication.database_journal_seq, head);
  assert.equal(body.replication.standby, false);
  assert.equal(body.replication.node, 'edge-t');
  assert.match(await (await fetch(`${s.apiUrl()}/metrics`)).text(), /glidepath_node_info\{node="edge-t",role="edge"\} 1/);
});
