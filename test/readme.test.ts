// The README's examples run as written (CoreDNS tests its README examples too): the REST API
// session, with curl, jq and dig, against a real server, and the quick start's import of the example
// zone. Only the addresses and the admin token are swapped for the test server's; each dig waits
// 200 ms first (the README promises "within milliseconds").
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { bash } from './helpers/bash.js';
import { shBlock, skipWithoutTools } from './helpers/readme.js';
import { startTestServer, importFile } from './helpers/server.js';
import { query } from './helpers/dig.js';

const ROOT = new URL('../../', import.meta.url);
const skip = skipWithoutTools();

const s = await startTestServer();
after(() => s.stop());

test('README "A session with the REST API" runs as written and prints what it says', { skip }, async () => {
  const script = shBlock('## A session with the REST API', 1)
    .replace('API=http://127.0.0.1:8053 ADMIN=s3cret', `API=${s.apiUrl()} ADMIN=test-admin-token`)
    .replaceAll('@127.0.0.1 -p 5300', `@127.0.0.1 -p ${s.dnsPort()}`);
  assert.ok(script.includes(`-p ${s.dnsPort()}`), 'the block still queries the documented port');
  const r = await bash(`dig() { sleep 0.2; command dig "$@"; }\n${script}`);
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout; // curl prints its JSON without a newline: dig's lines follow on the same line
  assert.match(out, /www\.acme\.example\.\s+300\s+IN\s+A\s+192\.0\.2\.80$/m);
  assert.match(out, /www\.acme\.example\.\s+300\s+IN\s+A\s+192\.0\.2\.81$/m);
  assert.match(out, /"zone": "acme-new"/);
  assert.match(out, /"code": "ttl_outlives_switch"/);
  // Capped at the seconds left before the switch an hour away (3599 in the README, a little less here).
  const ns = /(?:^|[}\s])acme\.example\.\s+(\d+)\s+IN\s+NS\s+ns1\.acme\.example\.$/m.exec(out);
  assert.ok(ns, out);
  assert.ok(Number(ns[1]) <= 3599 && Number(ns[1]) >= 3580, `NS TTL ${ns[1]}`);
});

test('README quick start: the example zone it imports ships with the repository and is served', async () => {
  const block = shBlock('## Quick start', 1);
  const file = /import (\S+)/.exec(block)?.[1];
  assert.equal(file, 'examples/shop.example.zone');
  await importFile(s, new URL(file, ROOT));
  const r = await query(s.dnsPort(), 'shop.example.', 'SOA');
  assert.equal(r.rcode, 'NOERROR');
  assert.equal(r.answer.length, 1);
});
