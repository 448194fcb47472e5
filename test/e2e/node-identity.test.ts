// Node identity (GLIDEPATH_NODE_ID) as an operator checks it with dig: NSID (RFC 5001) on any
// query that asks, CHAOS TXT id.server and hostname.bind (RFC 4892), version.server/version.bind
// REFUSED unless GLIDEPATH_VERSION is set, and the node named in /metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, importText, type TestServer } from '../helpers/server.js';
import { query, DIG_BIN, dig } from '../helpers/dig.js';

const skip = DIG_BIN ? false : 'dig is not installed (Debian: bind9-dnsutils)';

const ZONE = `$ORIGIN id.example.
@ 3600 SOA ns1 hostmaster 1 3600 600 86400 300
@ 3600 NS ns1
ns1 3600 A 192.0.2.1
`;

async function server(node: { id: string; version?: string }): Promise<TestServer> {
  const s = await startTestServer({ node });
  await importText(s, ZONE);
  return s;
}

test('NSID and CHAOS id.server/hostname.bind name the node; version is REFUSED unless configured', { skip }, async () => {
  const s = await server({ id: 'edge-fra-1' });
  const port = s.dnsPort();
  const nsid = await dig(port, ['+nsid', '+norec', 'id.example', 'SOA']);
  assert.match(nsid, /status: NOERROR/);
  assert.match(nsid, /; NSID: .*\("edge-fra-1"\)/, nsid);
  // Without +nsid no NSID option is sent back (RFC 5001 2.1: only to queries that ask).
  assert.doesNotMatch(await dig(port, ['+norec', 'id.example', 'SOA']), /NSID/);
  // REFUSED answers (a name we do not serve) carry it too: the operator still learns who refused.
  assert.match(await dig(port, ['+nsid', 'elsewhere.test', 'A']), /status: REFUSED[\s\S]*NSID: .*"edge-fra-1"/);
  for (const name of ['id.server', 'hostname.bind', 'ID.SERVER']) {
    const out = await dig(port, ['CH', 'TXT', name, '+norec']);
    assert.match(out, /status: NOERROR/, out);
    assert.match(out, new RegExp(`${name.replace('.', '\\.')}\\.\\s+0\\s+CH\\s+TXT\\s+"edge-fra-1"`, 'i'), out);
  }
  for (const name of ['version.server', 'version.bind', 'authors.bind']) {
    assert.match(await dig(port, ['CH', 'TXT', name]), /status: REFUSED/, name);
  }
  // Another type at a known name: NOERROR without data. Class IN is untouched.
  const a = await query(port, 'id.server', 'A', { qclass: 3 });
  assert.equal(a.rcode, 'NOERROR');
  assert.deepEqual(a.answer, []);
  assert.equal((await query(port, 'id.server', 'TXT')).rcode, 'REFUSED');
  const metrics = await (await fetch(`${s.apiUrl()}/metrics`)).text();
  assert.match(metrics, /glidepath_node_info\{node="edge-fra-1",role="primary"\} 1/);
});

test('version.server and version.bind answer GLIDEPATH_VERSION when configured', { skip }, async () => {
  const s = await server({ id: 'ns2', version: 'glidepath 0.1' });
  for (const name of ['version.server', 'version.bind']) {
    assert.match(await dig(s.dnsPort(), ['CH', 'TXT', name]), /TXT\s+"glidepath 0\.1"/, name);
  }
});
