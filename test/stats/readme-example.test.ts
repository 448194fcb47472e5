// The README's statistics example runs as written, after the REST API session it continues, against
// a real server: the queries dig sent show up in the series, the busiest domains and the admin's
// view. Only the addresses and the admin token are swapped for the test server's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/server.js';
import { bash } from '../helpers/bash.js';
import { shBlock, skipWithoutTools } from '../helpers/readme.js';
import { DEFAULT_STATS } from '../../src/config.js';

const skip = skipWithoutTools();


test('README "Per-domain query statistics" runs as written after the API session', { skip }, async () => {
  const s = await startTestServer({ stats: { ...DEFAULT_STATS, flushMs: 200 } });
  const swap = (t: string) => t.replace('API=http://127.0.0.1:8053 ADMIN=s3cret', `API=${s.apiUrl()} ADMIN=test-admin-token`)
    .replaceAll('@127.0.0.1 -p 5300', `@127.0.0.1 -p ${s.dnsPort()}`);
  const session = swap(shBlock('## A session with the REST API', 1));
  // The session's digs, and more answers for acme.example: 5 A and 2 NXDOMAIN.
  const queries = `for i in 1 2 3 4 5; do dig @127.0.0.1 -p ${s.dnsPort()} www.acme.example A +short >/dev/null; done
for i in 1 2; do dig @127.0.0.1 -p ${s.dnsPort()} nope$i.acme.example A +short >/dev/null; done`;
  const stats = shBlock('## Per-domain query statistics', 0);
  // One script, as a reader would paste it: the counts are written within the flush interval (200 ms here).
  const r = await bash(`dig() { sleep 0.2; command dig "$@"; }\n${session}\n${queries}\nsleep 1\necho '=== stats'\n${stats}`);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('=== stats\n')[1].trim().split('\n');
  assert.deepEqual(JSON.parse(lines[0]), { queries: 10, qtypes: { A: 9, NS: 1 }, rcodes: { NOERROR: 8, NXDOMAIN: 2 } });
  assert.ok(Number(lines[4]) >= 168 && Number(lines[4]) <= 169, lines[4]);
  assert.deepEqual(JSON.parse(lines[5]), { name: 'acme.example.', tenant: 'acme', queries: 10, nxdomain: 2 });
  assert.deepEqual(JSON.parse(lines[6]), { name: 'acme.example.', tenant: 'acme', queries: 10, nxdomain: 2 });
});
