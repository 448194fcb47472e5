// The README's "Zones that include zones" example runs as written (curl, jq and dig against a real
// server), with the REST session's $API and $H set up first, as the README says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bash } from '../helpers/bash.js';
import { shBlock, skipWithoutTools } from '../helpers/readme.js';
import { startTestServer } from '../helpers/server.js';

const skip = skipWithoutTools();
const s = await startTestServer();


test('README "Zones that include zones" runs as written and prints what it says', { skip }, async () => {
  const block = shBlock('## Zones that include zones', 0).replaceAll('@127.0.0.1 -p 5300', `@127.0.0.1 -p ${s.dnsPort()}`);
  const setup = `API=${s.apiUrl()} ADMIN=test-admin-token
curl -s -X POST $API/v1/tenants -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' -d '{"name":"acme"}' >/dev/null
TOKEN=$(curl -s -X POST $API/v1/tenants/acme/tokens -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' -d '{}' | jq -r .token)
H=(-H "Authorization: Bearer $TOKEN" -H 'content-type: application/json')
dig() { sleep 0.2; command dig "$@"; }
`;
  const r = await bash(setup + block);
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^10 mail\.store\.example\.$/m);
  assert.match(out, /^192\.0\.2\.80$/m);
  assert.match(out, /^198\.51\.100\.26$/m);
  assert.match(out, /\{"owner":"mail","type":"A","ttl":300,"records":\["198\.51\.100\.26"\],"zone":"hosting-base"\}/);
  assert.match(out, /^zone_included$/m);
});
